import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import Testing
import TestSupport

/// One ledger, four platforms: every instance of the platform tenant is visible, bindable and
/// deprovisionable through every front-end, whichever made it.
@Suite("Interop: the 4×4 matrix and the cross-protocol rules")
struct InteropMatrixTests {
    static let cells: [(Platform, Platform)] = Platform.allCases.flatMap { creator in Platform.allCases.map { (creator, $0) } }

    /// X creates; Y reads (where it can), binds, unbinds and deprovisions; then the instance is
    /// gone through X and through the registry, and the events carry each actor's protocol.
    @Test(arguments: cells)
    func anInstanceMadeThroughOnePlatformIsUsedAndRemovedThroughAnother(creator: Platform, user: Platform) async throws {
        try await GatewayFixture.withPlatforms { platforms, handle in
            let made = try await platforms.create(through: creator, label: "\(creator)\(user)")
            // Canonical ids: lowercase UUIDs when Polybroker generates them
            #expect(made.id == made.id.lowercased() && UUID(uuidString: made.id) != nil)
            if user.canRead {
                let read = try await platforms.fetch(made, through: user)
                #expect(read.status == .ok, "\(user) reads a \(creator) instance: \(read.text)")
                switch user {
                case .cf: #expect(read["service_id"] == .string(platforms.sqlite.id))
                case .tsuru: break
                case .registry:
                    #expect(read["id"] == .string(made.id))
                    #expect(read["protocol"] == .string(creator.rawValue))
                    #expect(read["offering"] == "sqlite")
                    #expect(read["type"] == "sqlite")
                    #expect(read["plan"] == "small")
                    #expect(read["state"] == "ready")
                case .apcera: break
                }
            }
            let bound = try await platforms.bind(made, through: user)
            // The same facts whoever asks: the uri matches the one another platform gets
            let other = try await platforms.bind(made, through: creator)
            #expect(bound.uri == other.uri)
            #expect(bound.uri.hasPrefix("sqlite:///"))
            try await platforms.unbind(made, bound, through: user)
            try await platforms.unbind(made, other, through: creator)
            // The registry's default binding is live for Apcera: its platform user forces the delete
            let removed = try await platforms.deprovision(made, through: user, force: user == .apcera && creator == .registry)
            #expect(removed.status == Platforms.deprovisioned(user), "\(user) deprovisions a \(creator) instance: \(removed.text)")
            #expect(try await platforms.isGone(made, through: creator), "gone through \(creator)")
            #expect(try await platforms.isGone(made, through: .registry), "gone through the registry")
            // The database file is gone too
            let path = String(bound.uri.dropFirst("sqlite://".count))
            #expect(!FileManager.default.fileExists(atPath: path))
            // Every event names the front-end that acted
            let events = try await handle.broker.events(EventFilter(), page: .all).items
            let mine = events.filter { $0.subject == made.id || $0.subject == bound.handle || $0.payload["instance_id"] == .string(made.id) }
            #expect(mine.first { $0.type == EventType.instanceCreate }?.protocolName == creator.rawValue)
            #expect(mine.first { $0.type == EventType.instanceDelete }?.protocolName == user.rawValue)
            let bindingEvents = events.filter { $0.type == EventType.bindingCreate && $0.payload["instance_id"] == .string(made.id) }
            #expect(Set(bindingEvents.map(\.protocolName)) == Set([user.rawValue, creator.rawValue]))
            // Reading an instance through the registry never binds it behind its platform's back
            #expect(bindingEvents.count == (creator == .registry ? 3 : 2))
        }
    }

    @Test func deletesThroughTsuruRegistryAndCFCascadeToEveryFrontEndsBindings() async throws {
        try await GatewayFixture.withPlatforms { platforms, handle in
            for deleter in [Platform.tsuru, .registry, .cf] {
                let made = try await platforms.create(through: .registry, label: "cascade-\(deleter)")
                var bindings: [(Platform, Bound)] = []
                for platform in Platform.allCases { bindings.append((platform, try await platforms.bind(made, through: platform))) }
                let listed = try await platforms.send(.registry, .get, "/services/\(made.name)/bindings")
                let protocols = listed["values"]?.arrayValue?.compactMap { $0["protocol"]?.stringValue } ?? []
                // The registry's default binding plus one from every front-end
                #expect(protocols.sorted() == ["apcera", "cf", "registry", "registry", "tsuru"])
                #expect(!listed.text.contains("creds") && !listed.text.contains("sqlite://"))
                let removed = try await platforms.deprovision(made, through: deleter)
                #expect(removed.status == Platforms.deprovisioned(deleter), "\(deleter): \(removed.text)")
                #expect(try await platforms.isGone(made, through: .registry))
                let deletes = try await handle.broker.events(EventFilter(type: EventType.bindingDelete), page: .all).items
                    .filter { $0.payload["instance_id"] == .string(made.id) }
                #expect(deletes.count == 5)
                #expect(deletes.allSatisfy { $0.protocolName == deleter.rawValue })
                // The Apcera binding is gone for Apcera too
                let apceraBinding = try #require(bindings.first { $0.0 == .apcera }?.1)
                #expect(try await platforms.send(.apcera, .delete, "/bindings/\(apceraBinding.handle)").status == .notFound)
            }
        }
    }

    @Test func apceraCountsEveryFrontEndsBindingsAsLiveAndForceRemovesThemAll() async throws {
        try await GatewayFixture.withPlatforms { platforms, handle in
            let made = try await platforms.create(through: .tsuru, label: "apcera-force")
            let viaCF = try await platforms.bind(made, through: .cf)
            let refused = try await platforms.deprovision(made, through: .apcera)
            #expect(refused.status == .conflict)
            // Nothing changed
            #expect(try await platforms.fetch(made, through: .cf).status == .ok)
            let bindings = try await platforms.send(.registry, .get, "/services/\(made.name)/bindings/\(viaCF.handle)")
            #expect(bindings["state"] == "bound")
            let forced = try await platforms.deprovision(made, through: .apcera, force: true)
            #expect(forced.status == .ok)
            #expect(try await platforms.isGone(made, through: .tsuru))
            let deletes = try await handle.broker.events(EventFilter(type: EventType.bindingDelete), page: .all).items
                .filter { $0.payload["instance_id"] == .string(made.id) }
            #expect(deletes.map(\.protocolName) == ["apcera"])
        }
    }

    @Test func bindingIdsAreOneSpaceAndTsuruBindingsShowTheirGeneratedID() async throws {
        try await GatewayFixture.withPlatforms { platforms, handle in
            let made = try await platforms.create(through: .cf, label: "ids")
            // CF's binding id is the registry's and Apcera's
            let viaCF = try await platforms.bind(made, through: .cf)
            let seen = try await platforms.send(.registry, .get, "/services/\(made.name)/bindings/\(viaCF.handle)")
            #expect(seen.status == .ok)
            #expect(seen["creds"]?["uri"] == .string(viaCF.uri))
            #expect(try await platforms.send(.apcera, .delete, "/bindings/\(viaCF.handle)").status == .ok)
            #expect(try await platforms.send(.registry, .get, "/services/\(made.name)/bindings/\(viaCF.handle)").status == .notFound)
            // A tsuru binding gets a generated id, shown in its binding.create event and usable elsewhere
            let viaTsuru = try await platforms.bind(made, through: .tsuru)
            let created = try await handle.broker.events(EventFilter(type: EventType.bindingCreate), page: .all).items
                .last { $0.protocolName == "tsuru" && $0.payload["instance_id"] == .string(made.id) }
            let tsuruID = try #require(created?.subject)
            #expect(UUID(uuidString: tsuruID) != nil)
            let listed = try await platforms.send(.registry, .get, "/services/\(made.name)/bindings/\(tsuruID)")
            #expect(listed["creds"]?["uri"] == .string(viaTsuru.uri))
            // A CF instance is named <offering>-<8 hex>; the CF name is context only
            #expect(made.name.wholeMatch(of: /sqlite-[0-9a-f]{8}/) != nil)
            // The registry's default binding is an ordinary binding
            let registryMade = try await platforms.send(.registry, .post, "/services", json: ["name": "reg-default", "type": "sqlite", "plan": "small"])
            let defaultID = try #require(registryMade["binding_id"]?.stringValue)
            #expect(try await platforms.send(.registry, .delete, "/services/reg-default/bindings/\(defaultID)").status == .noContent)
            #expect(try await platforms.send(.registry, .get, "/services/reg-default/bindings/\(defaultID)").status == .notFound)
        }
    }

    @Test func credentialsAreTheSameFactsEverywhereAndTsuruVariablesCarryThem() async throws {
        try await GatewayFixture.withPlatforms { platforms, _ in
            let made = try await platforms.create(through: .apcera, label: "facts")
            let viaCF = try await platforms.bind(made, through: .cf)
            let viaTsuru = try await platforms.bind(made, through: .tsuru)
            let viaApcera = try await platforms.bind(made, through: .apcera)
            let viaRegistry = try await platforms.bind(made, through: .registry)
            #expect(Set([viaCF.uri, viaTsuru.uri, viaApcera.uri, viaRegistry.uri]).count == 1)
            // Registry paths accept names other platforms gave (Apcera's '.')
            #expect(try await platforms.send(.registry, .get, "/services/\(made.name)").status == .ok)
        }
    }

    @Test func instancesOfAnotherRegistryTenantAreInvisibleToThePlatforms() async throws {
        try await GatewayFixture.withPlatforms { platforms, _ in
            let reply = try await platforms.send(.registry, .post, "/services", json: ["name": "beta-db", "type": "sqlite", "plan": "small"], token: "beta-token")
            #expect(reply.status == .created)
            let made = Made(id: try #require(reply["id"]?.stringValue), name: "beta-db")
            #expect(try await platforms.fetch(made, through: .cf).status == .notFound)
            #expect(try await platforms.deprovision(made, through: .cf).status == .gone)
            #expect(try await platforms.fetch(made, through: .tsuru).status == .notFound)
            #expect(try await platforms.deprovision(made, through: .apcera).status == .notFound)
            #expect(try await platforms.send(.apcera, .post, "/bindings", json: ["service_id": .string(made.id)]).status == .notFound)
            #expect(try await platforms.fetch(made, through: .registry).status == .notFound)
            // Still there for its tenant
            #expect(try await platforms.send(.registry, .get, "/services/beta-db", token: "beta-token").status == .ok)
        }
    }

    @Test func tsuruServesOnlyItsOwnOfferingsInstances() async throws {
        try await GatewayFixture.withPlatforms { platforms, _ in
            let api = try await platforms.send(.registry, .post, "/services", json: ["name": "shared-api", "type": "static-api", "plan": "standard"])
            #expect(api.status == .created)
            // Through /tsuru/sqlite the static-api instance does not exist; through /tsuru/static-api it does
            #expect(try await platforms.send(.tsuru, .get, "/shared-api").status == .notFound)
            let own = try await Platform.send(platforms.client, .tsuru, .get, "/shared-api", tsuruOffering: "static-api")
            #expect(own.status == .ok)
        }
    }

    @Test func theShippedCatalogDeclaresRetrievableInstancesAndBindings() async throws {
        try await GatewayFixture.withPlatforms { platforms, _ in
            let catalog = try await platforms.send(.cf, .get, "/catalog")
            for name in ["sqlite", "static-api"] {
                let service = catalog["services"]?.arrayValue?.first { $0["name"] == .string(name) }
                #expect(service?["instances_retrievable"] == true)
                #expect(service?["bindings_retrievable"] == true)
            }
        }
    }
}
