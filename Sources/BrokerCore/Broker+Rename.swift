import Foundation

extension Broker {
    /// Gives a live instance a new name (its id, bindings and backend resource stay), so an
    /// instance whose name one platform cannot carry (Apcera's `.` for tsuru) can move there.
    ///
    /// - The operator command `polybroker instances rename`; no platform API renames.
    /// - The name must be 1–128 characters of letters, digits, `-`, `_` and `.`, free among live
    ///   instances; the instance must not be busy. Writes `instance.update` with `renamed_from`.
    @discardableResult
    public func rename(_ key: InstanceKey, to newName: String, origin: RequestOrigin) async throws(BrokerError) -> Instance {
        guard (1...128).contains(newName.count),
            newName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw .invalidRequest("'\(newName)' is not a name: use 1 to 128 letters, digits, '-', '_' and '.'")
        }
        let now = Self.now()
        do {
            let target = try await ledger.aggregate(key)
            if let taken = try await ledger.aggregate(.name(newName)), taken.instance.state != .deleted, taken.instance.id != target?.instance.id {
                throw BrokerError.nameTaken(newName)
            }
            return try await ledger.mutate(key) { aggregate in
                guard let aggregate, aggregate.instance.state != .deleted else { throw BrokerError.instanceNotFound(key.description) }
                var instance = aggregate.instance
                guard instance.name != newName else { return (.none, instance) }
                guard !instance.state.isBusy else {
                    throw BrokerError.concurrentOperation("service instance '\(instance.name)' is busy (\(instance.state.rawValue)); try again when it is done")
                }
                let previous = instance.name
                instance.name = newName
                instance.updatedAt = now
                var event = self.instanceEvent(EventType.instanceUpdate, instance, origin: origin, at: now)
                var payload = event.payload.objectValue ?? [:]
                payload["renamed_from"] = .string(previous)
                event.payload = .object(payload)
                return (LedgerWrite(instance: instance, events: [event]), instance)
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }
}
