import BrokerCore
import Crypto
import Foundation
import LedgerSQLite
import Testing
import TestSupport

/// One body of rules every `Ledger` implementation must keep, run over each of them.
@Suite("Ledger contract")
struct LedgerContractTests {
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    static func provider(_ id: String = "p-1", params: JSONValue = ["secret": "hunter2-provider"]) -> Provider {
        Provider(id: id, name: id, kind: "fake", params: params, source: .config, createdAt: epoch, updatedAt: epoch)
    }

    static func instance(_ id: String, name: String, state: InstanceState = .ready, tags: [String] = []) -> Instance {
        Instance(
            id: id, name: name, offeringID: "o", planID: "p", providerID: "p-1", tenant: "t", createdBy: "cf", state: state,
            parameters: ["n": 1], context: ["org": "x"], identity: ["k": "v"], tags: tags, createdAt: epoch, updatedAt: epoch)
    }

    static func binding(_ id: String, instance: String, app: String? = nil, password: String = "pw") -> Binding {
        Binding(
            id: id, instanceID: instance, appKey: app, createdBy: "cf", state: .bound, credentials: Credentials(["password": password]),
            createdAt: epoch, updatedAt: epoch)
    }

    static func operation(_ id: String, instance: String, binding: String? = nil) -> BrokerOperation {
        BrokerOperation(
            id: id, kind: binding == nil ? .provision : .bind, instanceID: instance, bindingID: binding,
            origin: RequestOrigin(protocolName: "cf", requestID: "r"), startedAt: epoch)
    }

    static func event(_ type: String, subject: String) -> NewEvent {
        NewEvent(type: type, tenant: "t", protocolName: "cf", subject: subject, payload: ["x": 1], timestamp: epoch)
    }

    func insert(_ ledger: any Ledger, _ write: LedgerWrite, key: InstanceKey) async throws {
        try await ledger.mutate(key) { _ in (write, ()) }
    }

    @Test(arguments: LedgerFactory.all)
    func mutateWritesEverythingInOneTransactionAndReadsItBack(factory: LedgerFactory) async throws {
        let directory = TemporaryDirectory("ledger")
        let ledger = try factory.open(directory, SymmetricKey(size: .bits256))
        try await ledger.saveProvider(Self.provider(), events: [])
        let instance = Self.instance("i-1", name: "one")
        try await insert(
            ledger,
            LedgerWrite(
                instance: instance, bindings: [Self.binding("b-1", instance: "i-1")],
                operations: [Self.operation("op-1", instance: "i-1")], events: [Self.event("instance.create", subject: "i-1")]),
            key: .id("i-1"))
        let aggregate = try #require(try await ledger.aggregate(.name("one")))
        #expect(aggregate.instance == instance)
        #expect(aggregate.bindings == [Self.binding("b-1", instance: "i-1")])
        #expect(aggregate.openOperations.map(\.id) == ["op-1"])
        #expect(try await ledger.openOperations().map(\.id) == ["op-1"])
        #expect(try await ledger.provider(id: "p-1") == Self.provider())
        let events = try await ledger.events(EventFilter(), page: PageRequest())
        #expect(events.items.map(\.type) == ["instance.create"])
    }

    @Test(arguments: LedgerFactory.all)
    func anErrorInsideMutateWritesNothing(factory: LedgerFactory) async throws {
        struct Refused: Error {}
        let directory = TemporaryDirectory("ledger")
        let ledger = try factory.open(directory, SymmetricKey(size: .bits256))
        try await ledger.saveProvider(Self.provider(), events: [])
        await #expect(throws: Refused.self) {
            try await ledger.mutate(.id("i-1")) { _ -> (LedgerWrite, Void) in throw Refused() }
        }
        // A unique violation half way through rolls the whole write back
        try await insert(ledger, LedgerWrite(instance: Self.instance("i-1", name: "taken")), key: .id("i-1"))
        await #expect(throws: LedgerError.uniqueViolation(field: "instance.name")) {
            try await insert(
                ledger,
                LedgerWrite(
                    instance: Self.instance("i-2", name: "taken"), events: [Self.event("instance.create", subject: "i-2")]),
                key: .id("i-2"))
        }
        #expect(try await ledger.aggregate(.id("i-2")) == nil)
        #expect(try await ledger.events(EventFilter(), page: PageRequest()).items.isEmpty)
    }

    @Test(arguments: LedgerFactory.all)
    func uniqueRulesHoldForLiveNamesBindingIDsAndApps(factory: LedgerFactory) async throws {
        let directory = TemporaryDirectory("ledger")
        let ledger = try factory.open(directory, SymmetricKey(size: .bits256))
        try await ledger.saveProvider(Self.provider(), events: [])
        try await insert(ledger, LedgerWrite(instance: Self.instance("i-1", name: "a")), key: .id("i-1"))
        try await insert(ledger, LedgerWrite(instance: Self.instance("i-2", name: "b")), key: .id("i-2"))
        try await insert(ledger, LedgerWrite(bindings: [Self.binding("b-1", instance: "i-1", app: "web")]), key: .id("i-1"))
        // The same app twice on one instance
        await #expect(throws: LedgerError.uniqueViolation(field: "binding.app")) {
            try await insert(ledger, LedgerWrite(bindings: [Self.binding("b-2", instance: "i-1", app: "web")]), key: .id("i-1"))
        }
        // A binding id owned by another instance
        await #expect(throws: LedgerError.uniqueViolation(field: "binding.id")) {
            try await insert(ledger, LedgerWrite(bindings: [Self.binding("b-1", instance: "i-2")]), key: .id("i-2"))
        }
        // A deleted instance frees its name
        try await insert(ledger, LedgerWrite(instance: Self.instance("i-1", name: "a", state: .deleted)), key: .id("i-1"))
        try await insert(ledger, LedgerWrite(instance: Self.instance("i-3", name: "a")), key: .id("i-3"))
        #expect(try await ledger.aggregate(.name("a"))?.instance.id == "i-3")
        #expect(try await ledger.aggregate(.id("i-1"))?.instance.state == .deleted)
    }

    @Test(arguments: LedgerFactory.all)
    func pagesStartAtTheMarkerAndNameTheNextOne(factory: LedgerFactory) async throws {
        let directory = TemporaryDirectory("ledger")
        let ledger = try factory.open(directory, SymmetricKey(size: .bits256))
        try await ledger.saveProvider(Self.provider(), events: [])
        for index in 0..<25 {
            let id = String(format: "i-%02d", index)
            try await insert(
                ledger, LedgerWrite(instance: Self.instance(id, name: id, tags: index < 5 ? ["gold"] : []), events: [Self.event("instance.create", subject: id)]),
                key: .id(id))
        }
        var names: [String] = []
        var marker: String?
        repeat {
            let page = try await ledger.instances(InstanceFilter(), page: PageRequest(marker: marker, limit: 10))
            names += page.items.map(\.name)
            marker = page.nextMarker
        } while marker != nil
        #expect(names == (0..<25).map { String(format: "i-%02d", $0) })
        #expect(try await ledger.instances(InstanceFilter(tag: "gold"), page: PageRequest()).items.count == 5)
        let events = try await ledger.events(EventFilter(), page: PageRequest(limit: 10))
        let sequences = events.items.map(\.sequence)
        #expect(sequences == sequences.sorted() && Set(sequences).count == 10)
        let next = try await ledger.events(EventFilter(), page: PageRequest(marker: events.nextMarker, limit: 10))
        #expect(next.items.first.map { String($0.sequence) } == events.nextMarker)
    }

    @Test(arguments: LedgerFactory.all)
    func secretsAreSealedAtRestAndSurviveReopening(factory: LedgerFactory) async throws {
        let directory = TemporaryDirectory("ledger")
        let key = SymmetricKey(size: .bits256)
        let password = "s3cret-\(UUID().uuidString)"
        do {
            let ledger = try factory.open(directory, key)
            try await ledger.saveProvider(Self.provider(params: ["admin_password": .string(password)]), events: [])
            try await insert(ledger, LedgerWrite(instance: Self.instance("i-1", name: "a")), key: .id("i-1"))
            try await insert(ledger, LedgerWrite(bindings: [Self.binding("b-1", instance: "i-1", password: password)]), key: .id("i-1"))
            for file in factory.files(directory) {
                let bytes = FileManager.default.contents(atPath: file) ?? Data()
                #expect(bytes.range(of: Data(password.utf8)) == nil, "secret readable in \(file)")
            }
            try await ledger.close()
        }
        let reopened = try factory.open(directory, key)
        #expect(try await reopened.binding(id: "b-1")?.credentials?["password"] == password)
        #expect(try await reopened.provider(id: "p-1")?.params["admin_password"]?.stringValue == password)
        // Another key cannot open what was sealed
        let wrongKey = try factory.open(directory, SymmetricKey(size: .bits256))
        await #expect(throws: (any Error).self) { try await wrongKey.binding(id: "b-1") }
    }

    @Test func migrationsAreNamedAndAppliedOnce() throws {
        let directory = TemporaryDirectory("ledger")
        let ledger = try SQLiteLedger(path: directory.path("l.sqlite"), sealer: PlainSealer())
        #expect(try ledger.appliedMigrations() == ["v1-initial-schema", "v2-provider-removal", "v3-session-heartbeats"])
        let again = try SQLiteLedger(path: directory.path("l.sqlite"), sealer: PlainSealer())
        #expect(try again.appliedMigrations() == ["v1-initial-schema", "v2-provider-removal", "v3-session-heartbeats"])
    }

    @Test func onlineBackupIsAConsistentCopy() async throws {
        let directory = TemporaryDirectory("ledger")
        let ledger = try SQLiteLedger(path: directory.path("l.sqlite"), sealer: PlainSealer())
        try await ledger.saveProvider(Self.provider(), events: [Self.event("provider.join", subject: "p-1")])
        try ledger.backup(to: directory.path("copy.sqlite"))
        let copy = try SQLiteLedger(path: directory.path("copy.sqlite"), sealer: PlainSealer())
        #expect(try await copy.provider(id: "p-1") == Self.provider())
        #expect(try await copy.events(EventFilter(), page: PageRequest()).items.count == 1)
    }
}

/// A sealer that does not encrypt, for tests that are not about sealing.
struct PlainSealer: SecretSealer {
    func seal(_ plaintext: Data) throws -> Data { plaintext }
    func open(_ sealed: Data) throws -> Data { sealed }
}
