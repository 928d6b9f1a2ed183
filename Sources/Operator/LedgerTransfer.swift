import BrokerCore
import Foundation
import Gateway
import LedgerSQLite

/// `polybroker ledger export|import|backup`: moving a ledger between data directories and machines.
public enum LedgerTransfer {
    /// Writes the ledger of `configuration` as an archive, line by line. With `resealKeyFile`
    /// (base64 of 32 bytes), sealed values are opened with the ledger's key and sealed again with
    /// that key, for a target ledger that has its own; without it they are copied as stored.
    @discardableResult
    public static func export(
        _ configuration: GatewayConfiguration, resealKeyFile: String? = nil, write: (String) throws -> Void
    ) async throws -> [ArchiveTable: Int] {
        var resealer: AESGCMSealer?
        let ledger: SQLiteLedger
        if let resealKeyFile {
            resealer = AESGCMSealer(key: try LedgerAccess.readKey(file: resealKeyFile))
            ledger = try LedgerAccess.openWithKey(configuration, create: false)
        } else {
            ledger = try LedgerAccess.openRedacted(configuration)
        }
        do {
            let counts = try ledger.export(catalog: configuration.catalog, resealingWith: resealer, write: write)
            try await ledger.close()
            return counts
        } catch {
            try? await ledger.close()
            throw error
        }
    }

    /// Exports into a file: written beside it, mode 0600, and renamed into place only when complete.
    @discardableResult
    public static func export(
        _ configuration: GatewayConfiguration, resealKeyFile: String? = nil, toFile file: String
    ) async throws -> [ArchiveTable: Int] {
        let temporary = file + ".partial-\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw OperatorError("cannot create \(temporary)") }
        do {
            let counts = try await export(configuration, resealKeyFile: resealKeyFile) { line in
                try handle.write(contentsOf: Data((line + "\n").utf8))
            }
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, file) == 0 else { throw OperatorError("cannot move the export into \(file)") }
            return counts
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// What an import found besides the records it wrote.
    public struct ImportOutcome: Sendable {
        /// What was written and skipped.
        public var report: ImportReport
        /// Things the operator should know (missing provider files, providers not configured here).
        public var warnings: [String]
    }

    /// Reads an archive into the ledger of `configuration` (created when absent), in one
    /// transaction. Refuses, changing nothing: a file that is not a readable archive, a ledger that
    /// is not empty (unless `merge`), sealed values the ledger's key cannot open, conflicts, and
    /// live instances whose offering or plan this configuration's catalog lacks (unless
    /// `allowUnknownOfferings`).
    public static func importArchive(
        _ data: Data, into configuration: GatewayConfiguration, merge: Bool, allowUnknownOfferings: Bool = false
    ) async throws -> ImportOutcome {
        let archive: LedgerArchive
        do {
            archive = try LedgerArchive.parse(data)
        } catch {
            throw OperatorError("not imported: \(error)")
        }
        let check = CatalogCheck(archive: archive, configuration: configuration)
        if !check.problems.isEmpty && !allowUnknownOfferings {
            throw OperatorError(
                (["not imported: \(check.problems.count) live instance(s) use offerings or plans this configuration's catalog lacks "
                    + "(add them to the catalog, or import anyway with --allow-unknown-offerings):"]
                    + check.problems.map { "  \($0)" }).joined(separator: "\n"))
        }
        do {
            try archive.checkSeals(with: AESGCMSealer(key: try LedgerAccess.ledgerKey(configuration)))
        } catch let error as ImportError {
            throw OperatorError("not imported: \(error)")
        }
        let ledger = try LedgerAccess.openWithKey(configuration, create: true)
        do {
            let report = try ledger.importArchive(archive, merge: merge)
            try await ledger.close()
            return ImportOutcome(report: report, warnings: (allowUnknownOfferings ? check.problems : []) + check.warnings)
        } catch let error as ImportError {
            try? await ledger.close()
            throw OperatorError("not imported: \(error)")
        } catch {
            try? await ledger.close()
            throw error
        }
    }

    /// Copies the ledger, consistently, into a new file while the server may be running, then checks
    /// the copy. The ledger key is not part of the copy: keep it with the copy.
    public static func backup(_ configuration: GatewayConfiguration, to file: String) async throws -> [ArchiveTable: Int] {
        guard !FileManager.default.fileExists(atPath: file) else {
            throw OperatorError("\(file) exists: back up into a new file")
        }
        let ledger = try LedgerAccess.openRedacted(configuration)
        do {
            try ledger.backup(to: file)
            try await ledger.close()
        } catch {
            try? await ledger.close()
            throw error
        }
        let copy = try SQLiteLedger(path: file, sealer: RedactingSealer())
        let problems = try copy.integrityProblems()
        let counts = try copy.counts()
        try await copy.close()
        guard problems.isEmpty else {
            throw OperatorError((["the copy at \(file) failed its check:"] + problems.map { "  \($0)" }).joined(separator: "\n"))
        }
        return counts
    }

    /// `3 providers, 2 instances, …` for messages: the tables `counts` has, in archive order.
    public static func summary(_ counts: [ArchiveTable: Int]) -> String {
        let parts = ArchiveTable.allCases.compactMap { table in
            counts[table].map { "\($0) \(table.rawValue)\($0 == 1 ? "" : "s")" }
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }
}

/// Checks an archive's instances against the catalog and providers of the importing configuration.
struct CatalogCheck {
    /// Live instances whose offering or plan the catalog lacks.
    var problems: [String] = []
    /// Worth knowing, never blocking.
    var warnings: [String] = []

    init(archive: LedgerArchive, configuration: GatewayConfiguration) {
        let catalog = configuration.catalog
        let exported = Dictionary(archive.offerings.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let providers = Dictionary(archive.providers.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let live = archive.instances.filter { $0.state != InstanceState.deleted.rawValue }
        for instance in live {
            let label = "instance '\(instance.name)' (\(instance.id))"
            let exportedName = exported[instance.offeringID]?.name
            guard let offering = catalog.offering(id: instance.offeringID) else {
                var problem = "\(label): offering \(instance.offeringID)\(exportedName.map { " ('\($0)' in the export)" } ?? "") is not in the catalog"
                if let exportedName, let sameName = catalog.offering(exportedName) {
                    problem += "; this catalog's '\(exportedName)' has id \(sameName.id)"
                }
                problems.append(problem)
                continue
            }
            if !offering.plans.contains(where: { $0.id == instance.planID }) {
                let planName = exported[instance.offeringID]?.plans.first { $0.id == instance.planID }?.name
                problems.append(
                    "\(label): plan \(instance.planID)\(planName.map { " ('\($0)' in the export)" } ?? "") is not a plan of offering '\(offering.name)' here")
            }
            if providers[instance.providerID]?.kind == "sqlite", let file = instance.providerState["path"],
                !FileManager.default.fileExists(atPath: file)
            {
                warnings.append(
                    "\(label): its database file \(file) is not on this machine; copy it to that path (its bindings' credentials name it)")
            }
        }
        let configured = Set(configuration.providers.map(\.id))
        for provider in archive.providers where provider.source == ProviderSource.config.rawValue && !configured.contains(provider.id) {
            let held = live.filter { $0.providerID == provider.id }.count
            if held > 0 {
                warnings.append(
                    "provider '\(provider.id)' (kind \(provider.kind)) was configured in the exporting gateway and is not in this configuration; \(held) live instance(s) use it")
            }
        }
    }
}
