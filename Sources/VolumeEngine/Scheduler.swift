/// Decides which queued job runs next, in memory, woken at once by `enqueue` and `finished`.
///
/// Rules: jobs run in the order they were accepted, except that a job waits while another job
/// with the same lock key (the volume it changes) runs or waits ahead of it, and a flattening
/// job waits while `flattenLimit` flattens run. A job with the lock key `everything` (a
/// repairing reconcile) runs alone: it waits for every job ahead of it, and every job behind
/// it waits for it. Nothing here polls.
actor Scheduler {
    /// The lock key that holds every lock.
    static let everything = "*"

    struct Entry: Sendable, Equatable {
        var jobID: String
        var lockKey: String
        var flattens: Bool
    }

    private var queue: [Entry] = []
    private var heldLocks: Set<String> = []
    private var runningFlattens = 0
    private var idleWorkers: [CheckedContinuation<Entry?, Never>] = []
    private var stopped = false
    private(set) var running: [String: Entry] = [:]
    var flattenLimit: Int

    init(flattenLimit: Int) {
        self.flattenLimit = flattenLimit
    }

    var queuedCount: Int { queue.count }
    var runningCount: Int { running.count }

    func setFlattenLimit(_ limit: Int) {
        flattenLimit = limit
        dispatch()
    }

    func enqueue(_ entry: Entry) {
        guard !stopped, running[entry.jobID] == nil, !queue.contains(where: { $0.jobID == entry.jobID }) else { return }
        queue.append(entry)
        dispatch()
    }

    /// Removes a job that has not started; false when it is already running or unknown.
    func removeQueued(_ jobID: String) -> Bool {
        guard let index = queue.firstIndex(where: { $0.jobID == jobID }) else { return false }
        queue.remove(at: index)
        dispatch()
        return true
    }

    /// The next job a worker should run, or nil once the scheduler is stopped.
    func next() async -> Entry? {
        if let entry = takeRunnable() { return entry }
        if stopped { return nil }
        return await withCheckedContinuation { idleWorkers.append($0) }
    }

    func finished(_ entry: Entry) {
        running[entry.jobID] = nil
        heldLocks.remove(entry.lockKey)
        if entry.flattens { runningFlattens -= 1 }
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
        while !idleWorkers.isEmpty, let entry = takeRunnable() {
            idleWorkers.removeFirst().resume(returning: entry)
        }
    }

    private func takeRunnable() -> Entry? {
        guard !stopped else { return nil }
        var passedLocks: Set<String> = []
        // While it runs, nothing else does.
        if heldLocks.contains(Self.everything) { return nil }
        for (index, entry) in queue.enumerated() {
            defer { passedLocks.insert(entry.lockKey) }
            // Nothing passes it in the queue, and it waits for all that runs and all ahead.
            if passedLocks.contains(Self.everything) { return nil }
            if entry.lockKey == Self.everything, !(heldLocks.isEmpty && index == 0) { continue }
            if heldLocks.contains(entry.lockKey) || passedLocks.contains(entry.lockKey) { continue }
            if entry.flattens && flattenLimit > 0 && runningFlattens >= flattenLimit { continue }
            queue.remove(at: index)
            heldLocks.insert(entry.lockKey)
            if entry.flattens { runningFlattens += 1 }
            running[entry.jobID] = entry
            return entry
        }
        return nil
    }
}
