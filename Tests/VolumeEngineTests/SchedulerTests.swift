import TestSupport
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

/// The scheduler against the rules written the plain way (a scan of the whole queue, as it
/// once was): random enqueues, starts, ends and cancels on a few volumes, flattens and
/// everything-jobs among them, pick the same job at every step.
@Suite struct SchedulerModelTests {
    typealias Entry = Scheduler.Entry

    /// The rules as a scan of the queue in order.
    struct Reference {
        var queue: [Entry] = []
        var held: Set<String> = []
        var runningFlattens = 0
        var flattenLimit: Int

        mutating func next() -> Entry? {
            if held.contains(Scheduler.everything) { return nil }
            var passed: Set<String> = []
            for (index, entry) in queue.enumerated() {
                defer { passed.insert(entry.lockKey) }
                if passed.contains(Scheduler.everything) { return nil }
                if entry.lockKey == Scheduler.everything, !(held.isEmpty && index == 0) { continue }
                if held.contains(entry.lockKey) || passed.contains(entry.lockKey) { continue }
                if entry.flattens && flattenLimit > 0 && runningFlattens >= flattenLimit { continue }
                queue.remove(at: index)
                held.insert(entry.lockKey)
                if entry.flattens { runningFlattens += 1 }
                return entry
            }
            return nil
        }

        mutating func finished(_ entry: Entry) {
            held.remove(entry.lockKey)
            if entry.flattens { runningFlattens -= 1 }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func picksWhatThePlainRulesPick(seed: UInt64) async {
        var random = SeededRandom(seed: seed)
        let limit = Int(random.next() % 3)
        let scheduler = Scheduler(flattenLimit: limit)
        var reference = Reference(flattenLimit: limit)
        var running: [Entry] = []
        var nextID = 0
        var started = 0
        for step in 0..<3_000 {
            switch random.next() % 10 {
            case 0..<4:
                let roll = random.next() % 40
                let lock = roll == 0 ? Scheduler.everything : "v\(roll % 6)"
                let entry = Entry(jobID: "j\(nextID)", lockKey: lock, flattens: lock != Scheduler.everything && random.next() % 4 == 0)
                nextID += 1
                await scheduler.enqueue(entry)
                reference.queue.append(entry)
            case 4..<7:
                let picked = await scheduler.nextIfRunnable()
                let expected = reference.next()
                #expect(picked == expected, "seed \(seed), step \(step)")
                if let picked { running.append(picked); started += 1 }
            case 7..<9:
                guard !running.isEmpty else { continue }
                let entry = running.remove(at: Int(random.next() % UInt64(running.count)))
                await scheduler.finished(entry)
                reference.finished(entry)
            default:
                guard !reference.queue.isEmpty else { continue }
                let victim = reference.queue.remove(at: Int(random.next() % UInt64(reference.queue.count)))
                #expect(await scheduler.removeQueued(victim.jobID), "seed \(seed), step \(step)")
                #expect(await !scheduler.removeQueued(victim.jobID), "only once")
            }
            #expect(await scheduler.queuedCount == reference.queue.count)
        }
        #expect(started > 300, "the run exercised the rules (\(started) jobs started)")
    }

    /// 10,000 jobs queued behind one busy volume: jobs of other volumes start at once, and the
    /// long line drains in order.
    @Test func aLongLineBehindOneVolumeHoldsUpNobodyElse() async {
        let scheduler = Scheduler(flattenLimit: 0)
        for index in 0..<10_000 { await scheduler.enqueue(Entry(jobID: "busy-\(index)", lockKey: "busy", flattens: false)) }
        let first = await scheduler.nextIfRunnable()
        #expect(first?.jobID == "busy-0")
        await scheduler.enqueue(Entry(jobID: "other", lockKey: "other", flattens: false))
        #expect(await scheduler.nextIfRunnable()?.jobID == "other")
        #expect(await scheduler.nextIfRunnable() == nil, "the line waits for its volume")
        var current = first
        for index in 1..<10_000 {
            if let current { await scheduler.finished(current) }
            current = await scheduler.nextIfRunnable()
            guard current?.jobID == "busy-\(index)" else {
                Issue.record("expected busy-\(index), got \(String(describing: current))")
                return
            }
        }
        #expect(await scheduler.queuedCount == 0)
    }
}
