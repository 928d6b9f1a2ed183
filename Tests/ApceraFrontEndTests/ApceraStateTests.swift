import BrokerCore
import Foundation
import Gateway
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport

@Suite("Apcera: state headers, forgery and rebuild")
struct ApceraStateTests {
    /// A provider, a service on it and a binding, with their state headers.
    struct Objects {
        let provider: ApceraReply
        let service: ApceraReply
        let binding: ApceraReply
        var providerID: String { provider["id"]!.stringValue! }
        var serviceID: String { service["id"]!.stringValue! }
        var bindingID: String { binding["id"]!.stringValue! }
    }

    static func create(_ apcera: ApceraClient) async throws -> Objects {
        let provider = try await apcera.send(.post, "/providers", body: ["type": "generic", "params": ["url": "https://user:pa55word@api.example.com/v1"]])
        let service = try await apcera.send(
            .post, "/services", body: ["provider_id": provider["id"]!, "params": ["token": "svc-secret"]], provider: provider.providerState)
        let binding = try await apcera.send(
            .post, "/bindings", body: ["service_id": service["id"]!], provider: provider.providerState, service: service.serviceState)
        return Objects(provider: provider, service: service, binding: binding)
    }

    static func decode(_ state: String) -> Data {
        var text = state.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text) ?? Data()
    }

    @Test func a31A32A33StateIsSignedBase64urlWithoutSecretsInClear() async throws {
        try await ApceraFixture.withServer { apcera, _ in
            let objects = try await Self.create(apcera)
            for (state, type, id) in [
                (objects.provider.providerState, "provider", objects.providerID), (objects.service.serviceState, "service", objects.serviceID),
                (objects.binding.bindingState, "binding", objects.bindingID),
            ] {
                let value = try #require(state)
                #expect(value.count <= 4096)
                #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
                let raw = Self.decode(value)
                let body = try #require(JSONValue.parse(raw.prefix(raw.count - 32)))
                #expect(body["v"] == 1)
                #expect(body["typ"] == .string(type))
                #expect(body["id"] == .string(id))
                let text = String(decoding: raw, as: UTF8.self)
                for secret in ["pa55word", "svc-secret", "api.example.com"] { #expect(!text.contains(secret)) }
            }
        }
    }

    @Test func a35A36A37A45ForgedTamperedForeignAndOtherKeysAre400AndChangeNothing() async throws {
        let other = TemporaryDirectory("apcera-other")
        let foreignGateway = try await Gateway.build(
            configuration: ApceraFixture.configuration(in: other, key: "a-completely-different-state-key-0000000"), logger: GatewayFixture.logger)
        let foreignState = try await foreignGateway.makeApplication().test(.live) { client in
            try await ApceraClient(client: client).send(.post, "/services", body: ["name": "elsewhere"]).serviceState
        }
        try await ApceraFixture.withServer { apcera, handle in
            let objects = try await Self.create(apcera)
            let genuine = try #require(objects.service.serviceState)
            var tampered = Array(genuine)
            tampered[20] = tampered[20] == "A" ? "B" : "A"
            let cases: [String] = [
                String(tampered), String(genuine.dropLast(10)), #"{"v":1,"typ":"service","id":"x"}"#, "not base64 !!",
                try #require(foreignState), try #require(objects.provider.providerState),
                String(repeating: "A", count: 4097),
            ]
            let before = try await handle.broker.events().items.count
            for state in cases {
                let reply = try await apcera.send(.delete, "/services/\(objects.serviceID)", body: ["force": true], service: state)
                #expect(reply.status == .badRequest)
                #expect(reply["error"] == "invalid_state")
                #expect(reply.hasNoState)
                let create = try await apcera.send(.post, "/bindings", body: ["service_id": .string(objects.serviceID)], service: state)
                #expect(create.status == .badRequest)
            }
            // The genuine state of another object of the same type is refused too
            let second = try await apcera.send(.post, "/services", body: ["name": "second"])
            #expect(try await apcera.send(.delete, "/services/\(objects.serviceID)", service: second.serviceState).status == .badRequest)
            #expect(try await handle.broker.events().items.count == before + 1)  // only the second service's creation
            #expect(try await handle.broker.instance(.id(objects.serviceID))?.instance.state == .ready)
            // A38: an empty header counts as absent
            #expect(try await apcera.send(.post, "/bindings", body: ["service_id": .string(objects.serviceID)], service: "").status == .ok)
        }
        _ = other
    }

    @Test func a34CreatesWhoseStateWouldPass4096CharactersAreRefusedFirst() async throws {
        try await ApceraFixture.withServer { apcera, handle in
            let big = String(repeating: "p", count: 3500)
            let refused = try await apcera.send(.post, "/services", body: ["name": "too-big", "params": ["blob": .string(big)]])
            #expect(refused.status == .badRequest)
            #expect(refused["message"] == "the service's state would pass 4096 characters: send fewer or shorter params")
            #expect(try await handle.broker.instance(.name("too-big")) == nil)
            let fits = try await apcera.send(.post, "/services", body: ["name": "fits", "params": ["blob": .string(String(repeating: "p", count: 1000))]])
            #expect(fits.status == .ok)
        }
    }

    @Test func a39ToA44ASecondServerWithTheSameKeyRebuildsFromState() async throws {
        let first = TemporaryDirectory("apcera-first")
        let firstGateway = try await Gateway.build(configuration: ApceraFixture.configuration(in: first), logger: GatewayFixture.logger)
        try await firstGateway.makeApplication().test(.live) { firstClient in
            let origin = ApceraClient(client: firstClient)
            let objects = try await Self.create(origin)
            let gone = try await origin.send(.post, "/services", body: ["name": "to-be-deleted"])
            _ = try await origin.send(.delete, "/services/\(gone["id"]!.stringValue!)")
            try await ApceraFixture.withServer { apcera, handle in
                // A40: without state, the new gateway does not know the objects
                expectStatus(try await apcera.send(.post, "/bindings", body: ["service_id": .string(objects.serviceID)]), .notFound)
                // A39: with the provider and service state it rebuilds both, and the binding works
                let rebound = try await apcera.send(
                    .post, "/bindings", body: ["service_id": .string(objects.serviceID)], provider: objects.provider.providerState,
                    service: objects.service.serviceState)
                #expect(rebound.status == .ok)
                #expect(rebound["url"] == "https://user:pa55word@api.example.com/v1")
                // …and later requests need no state
                expectStatus(try await apcera.send(.post, "/bindings", body: ["service_id": .string(objects.serviceID)]), .ok)
                let rebuilt = try await handle.broker.events(EventFilter(type: "state.rebuilt")).items
                #expect(Set(rebuilt.map(\.subject)) == [objects.providerID, objects.serviceID])
                #expect(rebuilt.allSatisfy { $0.protocolName == "apcera" })
                // A42: deleting a binding this gateway never saw, with its state, rebuilds then deletes it
                let deleted = try await apcera.send(
                    .delete, "/bindings/\(objects.bindingID)", service: objects.service.serviceState, binding: objects.binding.bindingState)
                #expect(deleted.status == .ok)
                expectStatus(try await apcera.send(.delete, "/bindings/\(objects.bindingID)", binding: objects.binding.bindingState), .notFound)
                // A41: a service on a provider known only from state
                let more = try await apcera.send(
                    .post, "/services", body: ["name": "more", "provider_id": .string(objects.providerID)], provider: objects.provider.providerState)
                #expect(more.status == .ok)
                // State from the second gateway works on the first
                let back = try await origin.send(.post, "/bindings", body: ["service_id": more["id"]!], provider: objects.provider.providerState, service: more.serviceState)
                #expect(back.status == .ok)
            }
            // A43: the first gateway never resurrects what it deleted, even with genuine state
            let replay = try await origin.send(.post, "/bindings", body: ["service_id": gone["id"]!], service: gone.serviceState)
            #expect(replay.status == .notFound)
        }
        _ = first
    }

    @Test func stateMadeWithAPreviousKeyIsStillAccepted() async throws {
        let old = TemporaryDirectory("apcera-old")
        let oldKey = "the-old-state-key-0123456789abcdef-old"
        let oldGateway = try await Gateway.build(configuration: ApceraFixture.configuration(in: old, key: oldKey), logger: GatewayFixture.logger)
        let objects = try await oldGateway.makeApplication().test(.live) { client in try await Self.create(ApceraClient(client: client)) }
        try await ApceraFixture.withServer(settings: ["previous_state_keys": [.string(oldKey)]]) { apcera, _ in
            let rebound = try await apcera.send(
                .post, "/bindings", body: ["service_id": .string(objects.serviceID)], provider: objects.provider.providerState,
                service: objects.service.serviceState)
            #expect(rebound.status == .ok)
        }
        _ = old
    }
}
