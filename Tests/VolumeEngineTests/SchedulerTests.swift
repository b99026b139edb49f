import Testing
@testable import VolumeEngine

@Suite struct SchedulerTests {
    typealias Entry = Scheduler.Entry

    @Test func jobsOnTheSameVolumeRunOneAtATimeInOrder() async {
        let scheduler = Scheduler(flattenLimit: 0)
        await scheduler.enqueue(Entry(jobID: "1", lockKey: "v", flattens: false))
        await scheduler.enqueue(Entry(jobID: "2", lockKey: "v", flattens: false))
        await scheduler.enqueue(Entry(jobID: "3", lockKey: "w", flattens: false))
        let first = await scheduler.next()
        let second = await scheduler.next()
        #expect(first?.jobID == "1")
        #expect(second?.jobID == "3", "a job on another volume runs in parallel")
        #expect(await scheduler.queuedCount == 1)
        await scheduler.finished(Entry(jobID: "1", lockKey: "v", flattens: false))
        #expect(await scheduler.next()?.jobID == "2")
    }

    @Test func flattensAreCappedAndDoNotLetLaterJobsOnTheirVolumeOvertake() async {
        let scheduler = Scheduler(flattenLimit: 1)
        let a = Entry(jobID: "a", lockKey: "va", flattens: true)
        await scheduler.enqueue(a)
        await scheduler.enqueue(Entry(jobID: "b", lockKey: "vb", flattens: true))
        await scheduler.enqueue(Entry(jobID: "b2", lockKey: "vb", flattens: false))
        await scheduler.enqueue(Entry(jobID: "c", lockKey: "vc", flattens: false))
        #expect(await scheduler.next()?.jobID == "a")
        // b waits for a flatten slot; b2 (same volume) must not overtake it; c may run.
        #expect(await scheduler.next()?.jobID == "c")
        #expect(await scheduler.runningCount == 2)
        await scheduler.finished(a)
        #expect(await scheduler.next()?.jobID == "b")
    }

    /// A repairing reconcile holds every lock: it waits for what runs and what is ahead of it,
    /// and what comes after waits for it.
    @Test func aJobHoldingEverythingRunsAlone() async {
        let scheduler = Scheduler(flattenLimit: 0)
        let running = Entry(jobID: "1", lockKey: "v", flattens: false)
        await scheduler.enqueue(running)
        #expect(await scheduler.next()?.jobID == "1")
        let everything = Entry(jobID: "fix", lockKey: Scheduler.everything, flattens: false)
        await scheduler.enqueue(everything)
        await scheduler.enqueue(Entry(jobID: "2", lockKey: "w", flattens: false))
        #expect(await scheduler.queuedCount == 2)
        #expect(await scheduler.runningCount == 1, "neither the fix (a job runs) nor the one behind it (the fix waits) may start")
        await scheduler.finished(running)
        #expect(await scheduler.next()?.jobID == "fix")
        #expect(await scheduler.runningCount == 1, "nothing runs beside it")
        await scheduler.finished(everything)
        #expect(await scheduler.next()?.jobID == "2")
    }

    @Test func anIdleWorkerIsWokenByEnqueue() async {
        let scheduler = Scheduler(flattenLimit: 0)
        async let taken = scheduler.next()
        try? await Task.sleep(for: .milliseconds(20))
        await scheduler.enqueue(Entry(jobID: "x", lockKey: "v", flattens: false))
        #expect(await taken?.jobID == "x")
    }

    @Test func stopReleasesIdleWorkers() async {
        let scheduler = Scheduler(flattenLimit: 0)
        async let taken = scheduler.next()
        try? await Task.sleep(for: .milliseconds(20))
        await scheduler.stop()
        #expect(await taken == nil)
    }

    @Test func raisingTheFlattenLimitStartsWaitingFlattens() async {
        let scheduler = Scheduler(flattenLimit: 1)
        await scheduler.enqueue(Entry(jobID: "a", lockKey: "va", flattens: true))
        await scheduler.enqueue(Entry(jobID: "b", lockKey: "vb", flattens: true))
        _ = await scheduler.next()
        async let waiting = scheduler.next()
        try? await Task.sleep(for: .milliseconds(20))
        await scheduler.setFlattenLimit(2)
        #expect(await waiting?.jobID == "b")
    }
}
