import Testing
import Lifecycle

@Suite struct ClonePolicyTests {
    @Test func plainCloneBelowTheLimit() {
        let plan = ClonePolicy.plan(sourceDepth: 0, maxDepth: 5, flattenFromSnapshot: false, fromSnapshot: false)
        #expect(plan == ClonePlan(mode: .clone, depth: 1, reason: nil))
    }

    @Test func cloneAtTheLimitStaysAClone() {
        let plan = ClonePolicy.plan(sourceDepth: 4, maxDepth: 5, flattenFromSnapshot: false, fromSnapshot: false)
        #expect(plan.mode == .clone)
        #expect(plan.depth == 5)
    }

    @Test(arguments: [false, true])
    func cloneBeyondTheLimitIsFlattenedWhateverTheSource(fromSnapshot: Bool) {
        // Cinder only counts volume→volume clones; here snapshot sources count the same.
        let plan = ClonePolicy.plan(sourceDepth: 5, maxDepth: 5, flattenFromSnapshot: false, fromSnapshot: fromSnapshot)
        #expect(plan.mode == .cloneAndFlatten)
        #expect(plan.depth == 0)
        #expect(plan.reason?.contains("above rbd_max_clone_depth 5") == true)
    }

    @Test(arguments: [0, -1, -100])
    func zeroOrNegativeDepthMeansFullCopy(maxDepth: Int) {
        let plan = ClonePolicy.plan(sourceDepth: 0, maxDepth: maxDepth, flattenFromSnapshot: false, fromSnapshot: false)
        #expect(plan.mode == .copy)
        #expect(plan.depth == 0)
    }

    @Test func flattenFromSnapshotOnlyAppliesToSnapshotSources() {
        #expect(ClonePolicy.plan(sourceDepth: 0, maxDepth: 5, flattenFromSnapshot: true, fromSnapshot: true).mode == .cloneAndFlatten)
        #expect(ClonePolicy.plan(sourceDepth: 0, maxDepth: 5, flattenFromSnapshot: true, fromSnapshot: false).mode == .clone)
    }

    @Test func onlyFlatteningModesTakeAFlattenSlot() {
        #expect(CloneMode.copy.flattens && CloneMode.cloneAndFlatten.flattens)
        #expect(!CloneMode.clone.flattens && !CloneMode.blank.flattens)
    }
}
