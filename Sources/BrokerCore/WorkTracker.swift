import Foundation

/// Keeps the provider work that runs in the background, and wakes callers waiting for an operation.
actor WorkTracker {
    private var running: [UUID: Task<Void, Never>] = [:]
    private var waiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    /// Operations signalled lately, so a waiter that arrives just after the signal does not sleep.
    private var recentlyFinished: Set<String> = []
    private var finishOrder: [String] = []

    /// Starts work that outlives the request that asked for it.
    func run(_ work: @escaping @Sendable () async -> Void) {
        let id = UUID()
        running[id] = Task {
            await work()
            self.finished(id)
        }
    }

    /// The number of pieces of work still running.
    var runningCount: Int { running.count }

    private func finished(_ id: UUID) {
        running[id] = nil
    }

    /// Wakes everybody waiting for an operation.
    func signal(_ operationID: String) {
        if recentlyFinished.insert(operationID).inserted {
            finishOrder.append(operationID)
            if finishOrder.count > 4096 { recentlyFinished.remove(finishOrder.removeFirst()) }
        }
        waiters.removeValue(forKey: operationID)?.values.forEach { $0.resume() }
    }

    /// Waits until the operation is signalled or the duration passes, whichever is first.
    func wait(for operationID: String, upTo duration: Duration) async {
        if recentlyFinished.contains(operationID) { return }
        let token = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiters[operationID, default: [:]][token] = continuation
            Task {
                try? await Task.sleep(for: duration)
                self.expire(operationID, token)
            }
        }
    }

    private func expire(_ operationID: String, _ token: UUID) {
        if let continuation = waiters[operationID]?.removeValue(forKey: token) {
            if waiters[operationID]?.isEmpty == true { waiters[operationID] = nil }
            continuation.resume()
        }
    }

    /// Waits until no work is running, or the duration passes. Returns whether all work finished.
    @discardableResult
    func drain(upTo duration: Duration) async -> Bool {
        if running.isEmpty { return true }
        let deadline = ContinuousClock.now + duration
        while !running.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return running.isEmpty
    }
}
