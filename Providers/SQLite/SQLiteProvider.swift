import BrokerCore
import Foundation
import GRDB

/// The embedded default: each instance is a SQLite database file in the provider's own
/// folder under the data directory. Needs nothing else running.
public struct SQLiteProvider: ProviderPlugin {
    /// The plugin kind.
    public static let kind = "sqlite"

    /// The folder holding this provider's database files.
    public let directory: URL

    /// Creates a provider keeping its files in `directory`.
    public init(directory: URL) {
        self.directory = directory
    }

    /// The factory Gateway registers. The provider takes no params.
    public static let factory = PluginFactory(
        kind: kind,
        validate: { params in
            guard let members = params.objectValue else { return ["params must be an object"] }
            return members.keys.sorted().map { "unknown parameter '\($0)': the sqlite provider takes no parameters" }
        },
        make: { params, environment in
            if let members = params.objectValue, let key = members.keys.sorted().first {
                throw ProviderError.invalidParameters("unknown parameter '\(key)': the sqlite provider takes no parameters")
            }
            let directory = environment.dataDirectory
                .appendingPathComponent("providers", isDirectory: true)
                .appendingPathComponent(fileName(for: environment.providerID), isDirectory: true)
            return SQLiteProvider(directory: directory)
        })

    /// The database file of an instance.
    public func databaseFile(for instanceID: String) -> URL {
        directory.appendingPathComponent(Self.fileName(for: instanceID) + ".sqlite")
    }

    /// A file name for an opaque id: the id itself when it is plain, else its hex encoding.
    static func fileName(for id: String) -> String {
        let plain = !id.isEmpty && !id.hasPrefix(".") && id.utf8.count <= 200
            && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
        return plain ? id : "x-" + id.utf8.map { String(format: "%02x", $0) }.joined()
    }

    public func provision(_ request: ProvisionRequest) async throws -> ProvisionResult {
        let file = databaseFile(for: request.instanceID)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: file.path)
            try await queue.write { db in
                try db.execute(sql: "PRAGMA user_version = 1")
            }
            try queue.close()
        } catch {
            throw ProviderError.failed("could not create the database file for instance '\(request.instanceID)'")
        }
        return ProvisionResult(state: ["path": file.path])
    }

    public func update(_ request: UpdateRequest) async throws {}

    public func deprovision(_ request: DeprovisionRequest) async throws {
        let file = databaseFile(for: request.instanceID)
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = file.path + suffix
            if FileManager.default.fileExists(atPath: path) {
                do {
                    try FileManager.default.removeItem(atPath: path)
                } catch {
                    throw ProviderError.failed("could not remove the database file of instance '\(request.instanceID)'")
                }
            }
        }
    }

    public func bind(_ request: BindRequest) async throws -> Credentials {
        let file = databaseFile(for: request.instanceID)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ProviderError.failed("the database file of instance '\(request.instanceID)' is missing")
        }
        return Credentials(["uri": "sqlite://" + file.path, "path": file.path])
    }

    /// A file cannot be locked per binding: there is nothing to revoke.
    public func unbind(_ request: UnbindRequest) async throws {}

    public func health() async -> ProviderHealth {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return FileManager.default.isWritableFile(atPath: directory.path) ? .healthy : .unhealthy("the data folder is not writable")
        } catch {
            return .unhealthy("the data folder cannot be created")
        }
    }
}
