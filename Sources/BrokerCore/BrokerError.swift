/// Every outcome of a `Broker` call that a platform can observe, other than success.
///
/// Messages are client-safe: they never carry secrets. Each front-end maps this enum to
/// its wire format in one exhaustive `switch`.
public enum BrokerError: Error, Sendable, Equatable {
    /// The request is malformed or a field is invalid.
    case invalidRequest(String)
    /// Parameters violate the plan's schema (names the offending parameter).
    case invalidParameters(String)
    /// No offering with this id or name.
    case unknownOffering(String)
    /// The offering has no such plan.
    case unknownPlan(offering: String, plan: String)
    /// The plan needs a caller that can poll for completion.
    case asyncRequired
    /// No instance with this id or name (or it was deleted).
    case instanceNotFound(String)
    /// No binding with this id (or it was unbound).
    case bindingNotFound(String)
    /// The id exists with different attributes.
    case conflict(String)
    /// The name is taken by another instance.
    case nameTaken(String)
    /// Another operation is running on the same instance or binding.
    case concurrentOperation(String)
    /// The instance failed earlier; the reason is given.
    case instanceFailed(String)
    /// The instance still has bindings and the caller did not ask to remove them.
    case hasBindings(instance: String, count: Int)
    /// The plan cannot be changed to the one asked for.
    case planChangeNotSupported(String)
    /// Instances of this plan cannot be bound.
    case notBindable(String)
    /// No live provider can serve the offering (or the pinned one is offline).
    case noLiveProvider(String)
    /// No provider with this id.
    case providerNotFound(String)
    /// No live session with this id, or a heartbeat with a token that is not the current one.
    case sessionNotFound(String)
    /// A provider could not be reached; the work did not happen.
    case providerUnavailable(String)
    /// A provider refused or failed the work; the client-safe reason is given.
    case providerFailed(String)
    /// The ledger could not be read or written.
    case ledgerUnavailable(String)
}

extension BrokerError: CustomStringConvertible {
    /// A one-line, client-safe description.
    public var description: String {
        switch self {
        case .invalidRequest(let message): message
        case .invalidParameters(let message): "invalid parameters: \(message)"
        case .unknownOffering(let name): "unknown offering '\(name)'"
        case .unknownPlan(let offering, let plan): "offering '\(offering)' has no plan '\(plan)'"
        case .asyncRequired: "This service plan requires client support for asynchronous service operations."
        case .instanceNotFound(let id): "service instance '\(id)' not found"
        case .bindingNotFound(let id): "binding '\(id)' not found"
        case .conflict(let message): message
        case .nameTaken(let name): "the name '\(name)' is already taken"
        case .concurrentOperation(let message): message
        case .instanceFailed(let reason): "the service instance is in a failed state: \(reason)"
        case .hasBindings(let instance, let count): "service instance '\(instance)' still has \(count) binding(s)"
        case .planChangeNotSupported(let message): message
        case .notBindable(let message): message
        case .noLiveProvider(let message): message
        case .providerNotFound(let id): "provider '\(id)' not found"
        case .sessionNotFound(let message): message
        case .providerUnavailable(let message): message
        case .providerFailed(let message): message
        case .ledgerUnavailable(let message): message
        }
    }
}
