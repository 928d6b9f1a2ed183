import BrokerCore
import Foundation
import Gateway
import Logging
import Testing
import TestSupport

@Suite("Configuration: the shipped file, the environment, and config check")
struct ConfigurationTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        let directory = TemporaryDirectory("config")
        let path = directory.path("polybroker.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: path, environment: environment)
    }

    func problems(_ yaml: String) -> [String] {
        do {
            _ = try load(yaml)
            return []
        } catch let error as ConfigurationError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func theShippedFileRunsTheEmbeddedDefaults() throws {
        let configuration = try ConfigLoader.load(path: GatewayFixture.shippedConfigPath, environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.password == nil)
        #expect(configuration.catalog.offerings.map(\.name) == ["sqlite", "static-api"])
        let sqlite = try #require(configuration.catalog.offering("sqlite"))
        #expect(sqlite.plans.map(\.name) == ["small", "large"])
        #expect(sqlite.plans[1].isAsynchronous)
        #expect(sqlite.plans[1].minimumDuration == .seconds(3))
        #expect(sqlite.instancesRetrievable && sqlite.bindingsRetrievable)
        #expect(configuration.providers.map(\.kind) == ["sqlite", "static"])
        // Catalog ids are stable UUIDs derived from names: the platforms match on them
        let again = try ConfigLoader.load(path: GatewayFixture.shippedConfigPath, environment: [:])
        #expect(again.catalog == configuration.catalog)
        #expect(sqlite.id.count == 36 && sqlite.id == sqlite.id.lowercased())
        #expect(configuration.prefix(of: "osb") == "/cf")
    }

    @Test func environmentOverridesTheFileAndTheCommandLineOverridesBoth() throws {
        let configuration = try ConfigLoader.load(
            path: GatewayFixture.shippedConfigPath,
            environment: [
                "POLYBROKER_PORT": "9090", "POLYBROKER_USERNAME": "broker", "POLYBROKER_PASSWORD": "pw",
                "POLYBROKER_REGISTRY_TOKENS": "acme=t1, beta=t2", "POLYBROKER_LOG_LEVEL": "debug",
            ],
            overrides: ConfigLoader.Overrides(host: "0.0.0.0", dataDirectory: "/tmp/somewhere"))
        #expect(configuration.port == 9090)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.username == "broker")
        #expect(configuration.password == "pw")
        #expect(configuration.registryTokens == [TenantToken(tenant: "acme", token: "t1"), TenantToken(tenant: "beta", token: "t2")])
        #expect(configuration.logLevel == .debug)
        #expect(configuration.dataDirectory.path == "/tmp/somewhere")
    }

    @Test func brokenFilesAreRejectedWithEveryProblemNamedByItsKey() {
        let found = problems(
            """
            servr: {}
            server: {port: 70000}
            providers:
              - id: dup
                kind: mysql
              - id: dup
                kind: static
                params: {credentials: {}}
            offerings:
              - name: My_DB
                provider: {kind: sqlite}
                plans: [{name: small}, {name: small}]
              - name: cache
                id: same-id
                provider: {kind: redis2}
                plans: [{name: tiny, id: same-id, maintenance_info: {version: "v1"}}]
              - name: cache
                provider: {kind: sqlite}
            plans:
              - offering: nowhere
                name: extra
            """)
        let expected = [
            "servr: unknown key (expected one of: auth, broker, data_directory, frontends, ledger, log_level, offerings, plans, providers, registry, server)",
            "providers[0].kind: unknown provider kind 'mysql' (installed: http, osb, postgresql, redis, sqlite, static)",
            "providers[1].id: duplicate provider id 'dup'",
            "providers[1].params: 'credentials' must be a non-empty object of string values",
            "offerings[0].name: 'My_DB' must be lower-case letters, digits and hyphens (at most 50, starting with a letter or digit)",
            "offerings[1].plans[0].maintenance_info.version: must be a semantic version like 1.0.0",
            "offerings[1].provider.kind: unknown provider kind 'redis2' (installed: http, osb, postgresql, redis, sqlite, static)",
            "offerings[2].name: duplicate offering name 'cache'",
            "plans[0].offering: refers to offering 'nowhere', which is not defined",
            "offerings[0].plans: duplicate plan name 'small' in offering 'My_DB'",
            "offerings[1].plans: duplicate id 'same-id' of plan 'tiny' (also used by offering 'cache')",
            "offerings[2].plans: an offering needs at least one plan",
        ]
        for problem in expected {
            #expect(found.contains(problem), "missing: \(problem)")
        }
        #expect(found.contains { $0.hasPrefix("server.port: must be a whole number from 0 to 65535") })
    }

    @Test func plansCanBeAddedAtTheTopLevelAndSchemasNeedTheirDialect() throws {
        let configuration = try load(
            """
            providers: [{id: p, kind: sqlite}]
            offerings:
              - name: db
                provider: {kind: sqlite}
                plans: [{name: one}]
            plans:
              - offering: db
                name: two
                schemas:
                  service_instance:
                    create:
                      parameters: {"$schema": "http://json-schema.org/draft-04/schema#", type: object}
            """)
        #expect(configuration.catalog.offering("db")?.plans.map(\.name) == ["one", "two"])
        #expect(configuration.catalog.offering("db")?.plans[1].schemas.instanceCreate?["type"] == "object")
        #expect(
            problems(
                """
                offerings:
                  - name: db
                    provider: {kind: sqlite}
                    plans: [{name: one, schemas: {service_binding: {create: {parameters: {type: object}}}}}]
                """) == [
                    "offerings[0].plans[0].schemas.service_binding.create.parameters: needs \"$schema\" (e.g. http://json-schema.org/draft-04/schema#), as Cloud Foundry requires"
                ])
    }

    @Test func frontEndSettingsAreCheckedKeyByKey() {
        let found = problems(
            """
            frontends:
              osb: {missing_version_status: 500, last_operation_after_delete: maybe}
              tsuru: {request_id_header: "bad header!", colour: blue}
              apcera: {wait_seconds: 0, state_key: short}
            """)
        #expect(
            found == [
                "frontends.osb.missing_version_status: must be 412 or 400",
                "frontends.osb.last_operation_after_delete: must be gone (410) or succeeded (200)",
                "frontends.apcera.wait_seconds: must be a whole number from 1 to 600",
                "frontends.apcera.state_key: must be at least 32 characters",
                "frontends.tsuru.colour: unknown key (expected one of: bind_timeout_seconds, prefix, request_id_header)",
                "frontends.tsuru.request_id_header: must be a header name such as X-Request-ID",
            ])
    }

    @Test func invalidYAMLIsReportedNotCrashed() {
        let found = problems("offerings: [unclosed")
        #expect(found.count == 1)
        #expect(found.first?.contains("is not valid YAML") == true)
    }
}
