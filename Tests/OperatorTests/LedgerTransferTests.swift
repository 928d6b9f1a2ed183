import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import LedgerSQLite
import Operator
import Testing
import TestSupport

@Suite("Ledger export, import and backup") struct LedgerTransferTests {
    @Test func exportImportExportIsByteIdentical() async throws {
        // Given a ledger with something of everything, made through every front-end
        let source = TemporaryDirectory("export-a")
        let sourceConfiguration = try await OperatorFixture.populated(source)
        let first = try await OperatorFixture.export(sourceConfiguration)
        // When it is imported into a fresh data folder holding the same key, and exported again
        let target = TemporaryDirectory("export-b")
        let targetConfiguration = try OperatorFixture.configuration(in: target, ledgerKey: try OperatorFixture.generatedKey(in: source))
        let outcome = try await LedgerTransfer.importArchive(Data(first.utf8), into: targetConfiguration, merge: false)
        let second = try await OperatorFixture.export(targetConfiguration)
        // Then the bytes are the same
        #expect(second == first)
        let lines = first.split(separator: "\n").map { JSONValue.parse(String($0)) }
        let header = try #require(lines.first??.objectValue)
        #expect(header["format"] == "polybroker-ledger" && header["version"] == 1)
        let records = lines.dropFirst().compactMap { $0?["record"]?.stringValue }
        #expect(records == records.sorted { ArchiveTable(rawValue: $0)! < ArchiveTable(rawValue: $1)! })
        #expect(outcome.report.inserted[.instance] == 7 && outcome.report.inserted[.binding] == 6)
        let protocols = Set(lines.compactMap { $0?["record"] == "instance" ? $0?["createdBy"]?.stringValue : nil })
        #expect(protocols == ["cf", "tsuru", "apcera", "registry"])
        let providers = Set(lines.compactMap { $0?["record"] == "provider" ? $0?["source"]?.stringValue : nil })
        #expect(providers == ["config", "apcera", "registry"])
        #expect(Set(records).isSuperset(of: ["offering", "provider", "instance", "binding", "operation", "event"]))
        // Secrets stay sealed: no credential, param or password in the file
        for secret in ["s3cr3t-key", "api.example.com", "sqlite://", GatewayFixture.password] {
            #expect(!first.contains(secret), "the export shows \(secret)")
        }
        // And the imported ledger serves: the same credentials through /cf
        try await GatewayFixture.withLiveGateway(targetConfiguration) { client, _ in
            let binding = try await Platforms(client: client).cf(.get, "service_instances/cf-api/service_bindings/cf-api-bind")
            #expect(binding["credentials"]?["uri"] == "https://api.example.com/v1")
        }
    }

    @Test func importRefusesANonEmptyLedgerUnlessMergingAndNeverOverwritesADifferentRecord() async throws {
        let source = TemporaryDirectory("merge-a")
        let archive = try await OperatorFixture.export(try await OperatorFixture.populated(source))
        let key = try OperatorFixture.generatedKey(in: source)
        let target = TemporaryDirectory("merge-b")
        let configuration = try OperatorFixture.configuration(in: target, ledgerKey: key)
        _ = try await LedgerTransfer.importArchive(Data(archive.utf8), into: configuration, merge: false)
        // A second import without --merge is refused and changes nothing
        let refused = await #expect(throws: OperatorError.self) {
            try await LedgerTransfer.importArchive(Data(archive.utf8), into: configuration, merge: false)
        }
        #expect(refused?.description.contains("is not empty") == true && refused?.description.contains("--merge") == true)
        #expect(try await OperatorFixture.export(configuration) == archive)
        // With --merge, identical records are skipped
        let again = try await LedgerTransfer.importArchive(Data(archive.utf8), into: configuration, merge: true)
        #expect(again.report.inserted.values.reduce(0, +) == 0)
        #expect(again.report.skipped[.instance] == 7)
        #expect(try await OperatorFixture.export(configuration) == archive)
        // Another ledger's records are added; its events come after this ledger's, renumbered
        let other = TemporaryDirectory("merge-c")
        let otherConfiguration = try OperatorFixture.configuration(in: other, ledgerKey: key)
        try await GatewayFixture.withLiveGateway(otherConfiguration) { client, _ in
            let platforms = Platforms(client: client)
            let created = try await platforms.cf(.put, "service_instances/other-db", Platforms.provision())
            let bound = try await platforms.cf(.put, "service_instances/other-db/service_bindings/other-bind", Platforms.bind(app: "x"))
            #expect(created.status == .created && bound.status == .created)
        }
        let otherArchive = try await OperatorFixture.export(otherConfiguration)
        let merged = try await LedgerTransfer.importArchive(Data(otherArchive.utf8), into: configuration, merge: true)
        #expect(merged.report.inserted[.instance] == 1 && merged.report.inserted[.binding] == 1)
        #expect(merged.report.skipped[.provider] == 2)
        let events = try await OperatorFixture.export(configuration).split(separator: "\n").compactMap { line in
            JSONValue.parse(String(line)).flatMap { $0["record"] == "event" ? $0 : nil }
        }
        let sequences = events.compactMap { $0["sequence"]?.integerValue }
        #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
        #expect(events.last?["subject"] == "other-bind")
        let merged2 = try await OperatorFixture.export(configuration)
        // Merging the same file again adds nothing: its events are recognised by content
        let twice = try await LedgerTransfer.importArchive(Data(otherArchive.utf8), into: configuration, merge: true)
        let otherEvents = otherArchive.split(separator: "\n").filter { $0.contains("\"record\":\"event\"") }.count
        #expect(twice.report.inserted.isEmpty && twice.report.skipped[.event] == otherEvents && otherEvents > 0)
        #expect(try await OperatorFixture.export(configuration) == merged2)
        // A record that differs from this ledger's is a conflict: reported, and nothing of the file is written
        let edited = archive.split(separator: "\n").map { line -> String in
            guard line.contains("\"record\":\"instance\""), line.contains("\"name\":\"tsuru-db\"") else { return String(line) }
            return line.replacingOccurrences(of: "\"state\":\"ready\"", with: "\"state\":\"failed\"")
        }.joined(separator: "\n") + "\n"
        #expect(edited != archive)
        let conflict = await #expect(throws: OperatorError.self) {
            try await LedgerTransfer.importArchive(Data(edited.utf8), into: configuration, merge: true)
        }
        #expect(conflict?.description.contains("differs from the record this ledger holds (state)") == true)
        #expect(try await OperatorFixture.export(configuration) == merged2)
    }

    @Test(arguments: [
        ("version", "format version 2 is not supported"),
        ("truncated", "it is truncated or was edited"),
        ("garbage", "line 3: not a JSON object"),
        ("type", "'createdAt' of the provider record has the wrong type"),
        ("empty", "the file is empty"),
        ("foreign", "not a polybroker ledger export"),
    ])
    func unreadableFilesAreRefusedAndChangeNothing(damage: String, message: String) async throws {
        let source = TemporaryDirectory("corrupt-a")
        let archive = try await OperatorFixture.export(try await OperatorFixture.populated(source))
        var lines = archive.split(separator: "\n").map(String.init)
        switch damage {
        case "version": lines[0] = lines[0].replacingOccurrences(of: "\"version\":1", with: "\"version\":2")
        case "truncated": lines.removeLast()
        case "garbage": lines[2] = "{\"record\":\"provider\",\"id\":"
        case "type":
            let index = try #require(lines.firstIndex { $0.contains("\"record\":\"provider\"") })
            lines[index] = lines[index].replacingOccurrences(of: "\"createdAt\":", with: "\"createdAt\":\"x\",\"was\":")
        case "empty": lines = []
        default: lines = ["name,id", "a,b"]
        }
        let target = TemporaryDirectory("corrupt-b")
        let configuration = try OperatorFixture.configuration(in: target, ledgerKey: try OperatorFixture.generatedKey(in: source))
        let error = await #expect(throws: OperatorError.self) {
            try await LedgerTransfer.importArchive(Data(lines.joined(separator: "\n").utf8), into: configuration, merge: false)
        }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        #expect(!FileManager.default.fileExists(atPath: LedgerAccess.path(configuration)))
    }

    @Test func resealingWithAnotherKeyKeepsTheCredentials() async throws {
        let source = TemporaryDirectory("reseal-a")
        let sourceConfiguration = try await OperatorFixture.populated(source)
        let box = LineCollector()
        try await GatewayFixture.withLiveGateway(sourceConfiguration) { client, _ in
            box.append(try await Platforms(client: client).cf(.get, "service_instances/cf-db/service_bindings/cf-bind")["credentials"]?.canonicalText() ?? "")
        }
        let before = try #require(JSONValue.parse(box.text))
        let newKey = OperatorFixture.newKey()
        let keyFile = source.path("target.key")
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data((newKey + "\n").utf8), attributes: [.posixPermissions: 0o600])
        let resealed = try await OperatorFixture.export(sourceConfiguration, resealKeyFile: keyFile)
        // A ledger with yet another key cannot take it, and is left alone
        let wrong = TemporaryDirectory("reseal-wrong")
        let wrongConfiguration = try OperatorFixture.configuration(in: wrong, ledgerKey: OperatorFixture.newKey())
        let refused = await #expect(throws: OperatorError.self) {
            try await LedgerTransfer.importArchive(Data(resealed.utf8), into: wrongConfiguration, merge: false)
        }
        #expect(refused?.description.contains("do not open with this ledger's key") == true)
        #expect(!FileManager.default.fileExists(atPath: LedgerAccess.path(wrongConfiguration)))
        // The ledger with the new key serves the same credentials
        let target = TemporaryDirectory("reseal-b")
        let targetConfiguration = try OperatorFixture.configuration(in: target, ledgerKey: newKey)
        _ = try await LedgerTransfer.importArchive(Data(resealed.utf8), into: targetConfiguration, merge: false)
        #expect(try await OperatorFixture.export(targetConfiguration) == resealed)
        try await GatewayFixture.withLiveGateway(targetConfiguration) { client, handle in
            let after = try await Platforms(client: client).cf(.get, "service_instances/cf-db/service_bindings/cf-bind")["credentials"]
            #expect(after != nil && after == before)
            let viaBroker = try await handle.broker.binding(id: "cf-bind")?.credentials?["uri"]
            #expect(viaBroker != nil && viaBroker == before["uri"]?.stringValue)
        }
    }

    @Test func liveInstancesOfOfferingsTheCatalogLacksAreRefusedUnlessAllowed() async throws {
        let source = TemporaryDirectory("catalog-a")
        let archive = try await OperatorFixture.export(try await OperatorFixture.populated(source))
        let target = TemporaryDirectory("catalog-b")
        var configuration = try OperatorFixture.configuration(in: target, ledgerKey: try OperatorFixture.generatedKey(in: source))
        configuration.catalog.offerings.removeAll { $0.name == "static-api" }
        let refused = await #expect(throws: OperatorError.self) {
            try await LedgerTransfer.importArchive(Data(archive.utf8), into: configuration, merge: false)
        }
        #expect(refused?.description.contains("(cf-api): offering") == true, "\(refused?.description ?? "")")
        #expect(refused?.description.contains("('static-api' in the export) is not in the catalog") == true)
        #expect(!FileManager.default.fileExists(atPath: LedgerAccess.path(configuration)))
        let allowed = try await LedgerTransfer.importArchive(Data(archive.utf8), into: configuration, merge: false, allowUnknownOfferings: true)
        #expect(allowed.warnings.contains { $0.contains("(cf-api): offering") })
        #expect(allowed.report.inserted[.instance] == 7)
    }

    @Test func aBackupWhileServingIsAConsistentCopy() async throws {
        let directory = TemporaryDirectory("backup")
        let configuration = try OperatorFixture.configuration(in: directory)
        try await GatewayFixture.withLiveGateway(configuration) { client, _ in
            let platforms = Platforms(client: client)
            for index in 0..<5 {
                #expect(try await platforms.cf(.put, "service_instances/before-\(index)", Platforms.provision()).status == .created)
            }
            // Writers keep going while the copies are taken
            let writers = Task {
                var index = 0
                while !Task.isCancelled {
                    _ = try? await platforms.cf(.put, "service_instances/during-\(index)", Platforms.provision())
                    _ = try? await platforms.cf(.put, "service_instances/during-\(index)/service_bindings/b-\(index)", Platforms.bind(app: "a-\(index)"))
                    index += 1
                }
                return index
            }
            for copy in 0..<3 {
                let file = directory.path("copy-\(copy).sqlite")
                let counts = try await LedgerTransfer.backup(configuration, to: file)
                #expect(counts[.instance]! >= 5)
                var copied = configuration
                copied.ledger.file = file
                let ledger = try LedgerAccess.openRedacted(copied)
                #expect(try ledger.integrityProblems().isEmpty)
                let ids = try await ledger.instances(InstanceFilter(), page: .all).items.map(\.id)
                #expect((0..<5).allSatisfy { ids.contains("before-\($0)") })
                // Each bound binding's instance is in the copy, with its operations
                for binding in try await ledger.bindings(BindingFilter(), page: .all).items {
                    #expect(ids.contains(binding.instanceID))
                }
                try await ledger.close()
            }
            writers.cancel()
            #expect(await writers.value > 0)
            let again = await #expect(throws: OperatorError.self) { try await LedgerTransfer.backup(configuration, to: directory.path("copy-0.sqlite")) }
            #expect(again?.description.contains("exists") == true)
        }
    }
}
