import BrokerCore
import Crypto
import Foundation
import Gateway
import LedgerSQLite

/// A way to open a ledger for the contract suite; a PostgreSQL ledger joins this list later.
public struct LedgerFactory: Sendable, CustomStringConvertible {
    /// Name shown in test output.
    public let name: String
    /// Opens a ledger in a folder with a key; opening the same folder and key again reopens it.
    public let open: @Sendable (TemporaryDirectory, SymmetricKey) throws -> any Ledger
    /// The files the ledger writes to, to check what is readable at rest.
    public let files: @Sendable (TemporaryDirectory) -> [String]

    public var description: String { name }

    /// Every ledger implementation.
    public static let all: [LedgerFactory] = [
        LedgerFactory(
            name: "sqlite",
            open: { directory, key in try SQLiteLedger(path: directory.path("ledger.sqlite"), sealer: AESGCMSealer(key: key)) },
            files: { directory in ["", "-wal"].map { directory.path("ledger.sqlite") + $0 } })
    ]
}
