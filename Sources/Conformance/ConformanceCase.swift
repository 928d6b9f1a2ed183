import Foundation
import Synchronization

/// One check of a protocol digest's checklist: an id such as `G3` (or `G7a`, `G7b` when one id
/// takes several cases), a title, and a body that passes by returning, fails by throwing
/// `CaseFailure`, and is skipped by throwing `CaseSkip`.
public struct ConformanceCase: Sendable {
    /// The checklist id (`G3`, `T14`, `A7b`).
    public let id: String
    /// What is checked, e.g. `missing X-Broker-API-Version → 412`.
    public let title: String
    /// The check. Resources it creates are registered on the scope, which removes them afterwards.
    public let body: @Sendable (CaseScope) async throws -> Void

    /// Creates a case.
    public init(_ id: String, _ title: String, _ body: @escaping @Sendable (CaseScope) async throws -> Void) {
        self.id = id
        self.title = title
        self.body = body
    }

    /// A case that cannot be checked over the wire: always reported as skipped, with the reason.
    public static func skipped(_ id: String, _ title: String, because reason: String) -> ConformanceCase {
        ConformanceCase(id, title) { _ in throw CaseSkip(reason) }
    }
}

/// What a case found wrong.
public struct CaseFailure: Error, CustomStringConvertible {
    /// The reason, one line.
    public let description: String

    /// Creates a failure.
    public init(_ reason: String) { description = reason }
}

/// Why a case was not checked.
public struct CaseSkip: Error, CustomStringConvertible {
    /// The reason, one line.
    public let description: String

    /// Creates a skip.
    public init(_ reason: String) { description = reason }
}

/// What one case run leaves behind: notes for the report and the clean-ups to run after it.
public final class CaseScope: Sendable {
    private struct State {
        var notes: [String] = []
        var cleanups: [@Sendable () async -> Void] = []
    }
    private let state = Mutex(State())

    init() {}

    /// Adds a note to the case's line (e.g. "not offered (MAY)").
    public func note(_ text: String) {
        state.withLock { $0.notes.append(text) }
    }

    /// Registers work that removes what the case created; runs after the case, last registered first.
    public func cleanup(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { $0.cleanups.append(work) }
    }

    var notes: [String] { state.withLock { $0.notes } }

    /// Takes the registered clean-ups, last first.
    func takeCleanups() -> [@Sendable () async -> Void] {
        state.withLock { state in
            defer { state.cleanups = [] }
            return state.cleanups.reversed()
        }
    }
}

/// Fails the case unless `condition` holds.
func ensure(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
    if !condition { throw CaseFailure(reason()) }
}

/// The value, or a failure.
func unwrap<T>(_ value: T?, _ reason: @autoclosure () -> String) throws -> T {
    guard let value else { throw CaseFailure(reason()) }
    return value
}

/// Sleeps, in seconds.
func pause(_ seconds: Double) async throws {
    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
}

/// A unique name for what a case creates: `conformance-<tag>-<8 hex>`.
func uniqueName(_ tag: String) -> String {
    "conformance-\(tag.lowercased())-\(UUID().uuidString.lowercased().prefix(8))"
}

/// A value behind a lock, for state shared between tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func set(_ value: Value) { mutex.withLock { $0 = value } }

    @discardableResult
    func update<T: Sendable>(_ body: @Sendable (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
