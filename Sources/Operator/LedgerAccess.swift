import BrokerCore
import Crypto
import Foundation
import Gateway
import LedgerSQLite

/// A problem an operator command reports and exits 1 on. Never carries a secret.
public struct OperatorError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String

    /// Creates an error.
    public init(_ description: String) {
        self.description = description
    }
}

/// Opens the ledger a configuration names, the way `serve` does, without starting a server; the
/// server may be running at the same time (SQLite WAL).
public enum LedgerAccess {
    /// The ledger file: `ledger.file`, relative to the data directory unless absolute.
    public static func path(_ configuration: GatewayConfiguration) -> String {
        let file = configuration.ledger.file
        return file.hasPrefix("/") ? file : configuration.dataDirectory.appendingPathComponent(file).path
    }

    /// Opens an existing ledger for reading without its key: sealed values open as empty, so a
    /// view cannot show credentials or provider params whatever it does.
    public static func openRedacted(_ configuration: GatewayConfiguration) throws -> SQLiteLedger {
        try SQLiteLedger(path: try existingPath(configuration), sealer: RedactingSealer())
    }

    /// Opens the ledger with its key (`POLYBROKER_LEDGER_KEY`/`ledger.key`, else the key file),
    /// creating an empty ledger when `create` and the file does not exist. The key is never created.
    public static func openWithKey(_ configuration: GatewayConfiguration, create: Bool) throws -> SQLiteLedger {
        let file = create ? path(configuration) : try existingPath(configuration)
        let key = try ledgerKey(configuration)
        if create {
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        return try SQLiteLedger(path: file, sealer: AESGCMSealer(key: key))
    }

    /// The ledger's key, as `serve` resolves it, without creating one.
    public static func ledgerKey(_ configuration: GatewayConfiguration) throws -> SymmetricKey {
        if let configured = configuration.ledger.key {
            guard let data = Data(base64Encoded: configured), data.count == 32 else {
                throw OperatorError("the ledger key (POLYBROKER_LEDGER_KEY or ledger.key) must be 32 bytes in base64")
            }
            return SymmetricKey(data: data)
        }
        let keyFile = configuration.ledger.keyFile
        let file = keyFile.hasPrefix("/") ? keyFile : configuration.dataDirectory.appendingPathComponent(keyFile).path
        guard FileManager.default.fileExists(atPath: file) else {
            throw OperatorError(
                "no ledger key at \(file): copy the exporting ledger's key there (mode 0600) or set POLYBROKER_LEDGER_KEY")
        }
        return try readKey(file: file)
    }

    /// A key file: base64 of 32 bytes (surrounding blanks ignored).
    public static func readKey(file: String) throws -> SymmetricKey {
        guard let contents = FileManager.default.contents(atPath: file) else { throw OperatorError("cannot read the key file \(file)") }
        let text = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text), data.count == 32 else {
            throw OperatorError("\(file) must hold a 32-byte key in base64")
        }
        return SymmetricKey(data: data)
    }

    static func existingPath(_ configuration: GatewayConfiguration) throws -> String {
        let file = path(configuration)
        guard FileManager.default.fileExists(atPath: file) else {
            throw OperatorError("no ledger at \(file) (nothing has run with data directory \(configuration.dataDirectory.path); see --data)")
        }
        return file
    }
}

/// Opens every sealed value as an empty object and seals nothing: for read-only views.
struct RedactingSealer: SecretSealer {
    func seal(_ plaintext: Data) throws -> Data {
        throw OperatorError("this ledger was opened read-only, without its key")
    }

    func open(_ sealed: Data) throws -> Data {
        Data("{}".utf8)
    }
}
