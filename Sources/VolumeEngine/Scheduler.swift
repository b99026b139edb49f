import DequeModule
import HeapModule

/// Decides which queued job runs next, in memory, woken at once by `enqueue` and `finished`.
///
/// Rules: jobs run in the order they were accepted, except that a job waits while another job
/// with the same lock key (the volume it changes) runs or waits ahead of it, and a flattening
/// job waits while `flattenLimit` flattens run. A job with the lock key `everything` (a
/// repairing reconcile) runs alone: it waits for every job ahead of it, and every job behind
/// it waits for it. Nothing here polls.
///
/// However long the queue, picking the next job does not scan it: each lock key keeps its jobs
/// in order, and only the oldest of a free lock may start, so those heads wait in a heap by
/// their place in the order (one heap for flattens, which the limit may hold back). A head that
/// stopped being one (taken, cancelled) stays in its heap until it comes to the top, where it is
/// recognised and dropped.
actor Scheduler {
    /// The lock key that holds every lock.
    static let everything = "*"

    struct Entry: Sendable, Equatable {
        var jobID: String
        var lockKey: String
        var flattens: Bool
    }

    /// A queued job and its place in the order of acceptance.
    private struct Queued {
        var entry: Entry
        var order: UInt64
    }

    /// The oldest queued job of a lock that was free when it became the oldest.
    private struct Head: Comparable {
        var order: UInt64
        var lockKey: String
        static func < (a: Head, b: Head) -> Bool { a.order < b.order }
    }

    private var nextOrder: UInt64 = 0
    /// Queued jobs by lock key, oldest first.
    private var waiting: [String: Deque<Queued>] = [:]
    /// The lock key of every queued job, by job id.
    private var queuedLocks: [String: String] = [:]
    private var heads = Heap<Head>()
    private var flattenHeads = Heap<Head>()
    private var heldLocks: Set<String> = []
    private var runningFlattens = 0
    private var idleWorkers: [CheckedContinuation<Entry?, Never>] = []
    private var stopped = false
    private(set) var running: [String: Entry] = [:]
    var flattenLimit: Int

    init(flattenLimit: Int) {
        self.flattenLimit = flattenLimit
    }

    var queuedCount: Int { queuedLocks.count }
    var runningCount: Int { running.count }

    func setFlattenLimit(_ limit: Int) {
        flattenLimit = limit
        dispatch()
    }

    func enqueue(_ entry: Entry) {
        guard !stopped, running[entry.jobID] == nil, queuedLocks[entry.jobID] == nil else { return }
        nextOrder += 1
        queuedLocks[entry.jobID] = entry.lockKey
        waiting[entry.lockKey, default: []].append(Queued(entry: entry, order: nextOrder))
        if waiting[entry.lockKey]?.count == 1 { offerHead(of: entry.lockKey) }
        dispatch()
    }

    /// Removes a job that has not started; false when it is already running or unknown.
    func removeQueued(_ jobID: String) -> Bool {
        guard let lockKey = queuedLocks.removeValue(forKey: jobID),
              let index = waiting[lockKey]?.firstIndex(where: { $0.entry.jobID == jobID }) else { return false }
        waiting[lockKey]?.remove(at: index)
        if waiting[lockKey]?.isEmpty == true { waiting[lockKey] = nil }
        if index == 0 { offerHead(of: lockKey) }
        dispatch()
        return true
    }

    /// The next job a worker should run, or nil once the scheduler is stopped.
    func next() async -> Entry? {
        if let entry = nextIfRunnable() { return entry }
        if stopped { return nil }
        return await withCheckedContinuation { idleWorkers.append($0) }
    }

    func finished(_ entry: Entry) {
        running[entry.jobID] = nil
        heldLocks.remove(entry.lockKey)
        if entry.flattens { runningFlattens -= 1 }
        offerHead(of: entry.lockKey)
        dispatch()
    }

    /// Stops handing out jobs; idle workers get nil. Queued jobs stay in the database.
    func stop() {
        stopped = true
        let waiting = idleWorkers
        idleWorkers = []
        for worker in waiting { worker.resume(returning: nil) }
    }

    private func dispatch() {
        while !idleWorkers.isEmpty, let entry = nextIfRunnable() {
            idleWorkers.removeFirst().resume(returning: entry)
        }
    }

    /// Puts the oldest job of `lockKey` among the heads, if the lock is free.
    private func offerHead(of lockKey: String) {
        guard !heldLocks.contains(lockKey), let head = waiting[lockKey]?.first else { return }
        let offered = Head(order: head.order, lockKey: lockKey)
        if head.entry.flattens { flattenHeads.insert(offered) } else { heads.insert(offered) }
    }

    /// The oldest head of `heap` that still is one (its lock free, still its lock's oldest job).
    private func currentTop(_ heap: inout Heap<Head>) -> Head? {
        while let top = heap.min {
            if !heldLocks.contains(top.lockKey), waiting[top.lockKey]?.first?.order == top.order { return top }
            heap.removeMin()
        }
        return nil
    }

    /// The job to start now, if one may: marked running, its lock held.
    func nextIfRunnable() -> Entry? {
        // While it runs, nothing else does.
        guard !stopped, !heldLocks.contains(Self.everything) else { return nil }
        let plain = currentTop(&heads)
        let mayFlatten = flattenLimit <= 0 || runningFlattens < flattenLimit
        let flatten = mayFlatten ? currentTop(&flattenHeads) : nil
        guard let chosen = [plain, flatten].compactMap({ $0 }).min() else { return nil }
        if chosen.lockKey == Self.everything {
            // It waits for all that runs; being the oldest head with nothing running, nothing
            // queued is ahead of it.
            guard heldLocks.isEmpty else { return nil }
        } else if let barrier = waiting[Self.everything]?.first?.order, barrier < chosen.order {
            // Nothing passes a waiting `everything` job.
            return nil
        }
        if chosen == flatten { flattenHeads.removeMin() } else { heads.removeMin() }
        guard let queued = waiting[chosen.lockKey]?.removeFirst() else { return nil }
        if waiting[chosen.lockKey]?.isEmpty == true { waiting[chosen.lockKey] = nil }
        let entry = queued.entry
        queuedLocks[entry.jobID] = nil
        heldLocks.insert(entry.lockKey)
        if entry.flattens { runningFlattens += 1 }
        running[entry.jobID] = entry
        return entry
    }
}
