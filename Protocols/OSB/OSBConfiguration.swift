import Foundation
import BrokerCore
import FrontEndSupport

/// Settings of the `/cf` front-end (`frontends.osb` in the configuration file).
public struct OSBConfiguration: Sendable {
    /// Basic-auth user name.
    public var username: String
    /// Basic-auth password.
    public var password: String
    /// The registry tenant that owns instances created here, and the only one visible here.
    public var tenant: String
    /// Status for a missing or empty `X-Broker-API-Version`: 412 (both checkers, brokerapi) or 400 (spec v2.16+ MAY).
    public var missingVersionStatus: Int
    /// The lowest `2.x` minor version accepted.
    public var minimumMinorVersion: Int
    /// `Retry-After` seconds sent while an operation runs (CF honours only 60 and above).
    public var retryAfterSeconds: Int
    /// After a finished delete, `last_operation` answers 410 Gone (osb-checker-kotlin) or 200 succeeded (osb-checker).
    public var goneAfterDelete: Bool
    /// Leave out catalog fields newer than 2.15 (`binding_rotatable`, plan `metadata`).
    public var catalogCompat215: Bool
    /// Reject a malformed `X-Broker-API-Originating-Identity` with 400 instead of recording it as given.
    public var strictOriginatingIdentity: Bool

    /// Creates settings.
    public init(
        username: String, password: String, tenant: String, missingVersionStatus: Int = 412, minimumMinorVersion: Int = 0,
        retryAfterSeconds: Int = 5, goneAfterDelete: Bool = true, catalogCompat215: Bool = false, strictOriginatingIdentity: Bool = false
    ) {
        self.username = username
        self.password = password
        self.tenant = tenant
        self.missingVersionStatus = missingVersionStatus
        self.minimumMinorVersion = minimumMinorVersion
        self.retryAfterSeconds = retryAfterSeconds
        self.goneAfterDelete = goneAfterDelete
        self.catalogCompat215 = catalogCompat215
        self.strictOriginatingIdentity = strictOriginatingIdentity
    }

    /// The keys `frontends.osb` may hold.
    public static let keys: Set<String> = [
        "prefix", "missing_version_status", "minimum_version", "retry_after_seconds", "last_operation_after_delete",
        "catalog_compat", "originating_identity",
    ]

    /// Applies `frontends.osb` settings; returns one problem per bad key (`key: message`).
    public mutating func apply(_ settings: JSONValue?) -> [String] {
        guard let members = settings?.objectValue else { return [] }
        var problems = FrontEndSettings.unknownKeys(in: members, allowed: Self.keys)
        if let value = members["missing_version_status"] {
            if let status = value.integerValue ?? value.stringValue.flatMap({ Int64($0) }), status == 400 || status == 412 {
                missingVersionStatus = Int(status)
            } else {
                problems.append("missing_version_status: must be 412 or 400")
            }
        }
        if let value = members["minimum_version"] {
            let text = value.stringValue ?? value.canonicalText()
            if let version = Self.parseVersion(text), version.major == 2 {
                minimumMinorVersion = version.minor
            } else {
                problems.append("minimum_version: must be a 2.x version such as 2.13")
            }
        }
        if let value = members["retry_after_seconds"] {
            if let seconds = value.integerValue ?? value.stringValue.flatMap({ Int64($0) }), (1...86400).contains(seconds) {
                retryAfterSeconds = Int(seconds)
            } else {
                problems.append("retry_after_seconds: must be a whole number from 1 to 86400")
            }
        }
        if let value = members["last_operation_after_delete"] {
            switch value.stringValue {
            case "gone": goneAfterDelete = true
            case "succeeded": goneAfterDelete = false
            default: problems.append("last_operation_after_delete: must be gone (410) or succeeded (200)")
            }
        }
        if let value = members["catalog_compat"], !value.isNull {
            let text = value.stringValue ?? value.canonicalText()
            if text == "2.15" { catalogCompat215 = true } else { problems.append("catalog_compat: must be \"2.15\" or absent") }
        }
        if let value = members["originating_identity"] {
            switch value.stringValue {
            case "lenient": strictOriginatingIdentity = false
            case "strict": strictOriginatingIdentity = true
            default: problems.append("originating_identity: must be lenient or strict")
            }
        }
        return problems
    }

    /// Parses `MAJOR.MINOR`.
    static func parseVersion(_ text: String) -> (major: Int, minor: Int)? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        return (major, minor)
    }
}
