import BrokerCore
import Conformance
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Each suite against Polybroker itself: the suites and the server keep each other honest.
@Suite("Conformance suites against Polybroker")
struct ConformanceAgainstPolybrokerTests {
    @Test func osbSuitePasses() async throws {
        // Given a live Polybroker with the shipped configuration, When the OSB suite runs against /cf
        let report = try await LivePolybroker.report(.osb)
        // Then nothing fails, and only what the wire cannot show (or the catalog does not offer) is skipped
        #expect(report.failedIDs == [])
        #expect(Set(report.skippedIDs) == ["P3", "P13", "L3", "L7", "L12", "U3", "U8", "U10", "D8", "D9", "B2c", "O2", "O3", "O4", "O6"])
        #expect(report.passed >= 130)
    }

    @Test func osbConfigurablePointsFollowTheServerSettings() async throws {
        // Given a broker configured for osb-checker (400 for a missing version, 200 succeeded after a delete)
        let settings: [String: JSONValue] = ["missing_version_status": 400, "last_operation_after_delete": "succeeded"]
        // When the suite runs with the same choices
        let report = try await LivePolybroker.report(.osb, only: ["G2", "D3", "L5", "UB2b", "BL2b"], osb: settings) { options in
            options.missingVersionStatus = 400
            options.lastOperationAfterDelete = .succeeded
        }
        // Then those cases pass; with the defaults they fail
        #expect(report.failedIDs == [])
        #expect(report.results.map(\.id) == ["G2a", "G2b", "UB2b", "BL2b", "D3", "L5"])
        let mismatched = try await LivePolybroker.report(.osb, only: ["G2a", "D3", "L5"], osb: settings)
        #expect(mismatched.failedIDs == ["G2a", "L5"])
    }

    @Test func tsuruSuitePasses() async throws {
        let report = try await LivePolybroker.report(.tsuru)
        #expect(report.failedIDs == [])
        #expect(report.skippedIDs == ["T26"])
    }

    @Test func apceraSuitePasses() async throws {
        let report = try await LivePolybroker.report(.apcera)
        #expect(report.failedIDs == [])
        #expect(Set(report.skippedIDs) == ["A4", "A39", "A40", "A41", "A42", "A44", "A45"])
    }

    @Test func registrySuitePassesAgainstPolybroker() async throws {
        let report = try await LivePolybroker.report(.registry)
        #expect(report.failedIDs == [])
        #expect(Set(report.skippedIDs) == ["R50", "R51", "R52"])
    }
}

/// Each suite against a Polybroker behind a proxy that breaks one behaviour: the suite must name it.
@Suite("Conformance suites report a broken server")
struct ConformanceAgainstBrokenServerTests {
    @Test func osbReportsA200ForAMissingVersionHeader() async throws {
        // Given a broker that answers 200 where it should refuse a missing X-Broker-API-Version with 412
        let breakage: Breakage = { exchange in
            if exchange.path.contains("/v2/") && !exchange.hasRequestHeader("X-Broker-API-Version") && exchange.status == 412 {
                exchange.status = 200
            }
        }
        // When the general and catalog cases run
        let report = try await LivePolybroker.report(.osb, only: ["G", "C"], through: breakage)
        // Then exactly the missing-header cases fail
        #expect(report.failedIDs == ["G2a", "G2b"])
    }

    @Test func osbReportsA201ForAnIdenticalReprovision() async throws {
        // Given a broker that answers 201 instead of 200 to an identical PUT of a provisioned instance
        let breakage: Breakage = { exchange in
            if exchange.method == "PUT", exchange.path.contains("/v2/service_instances/"), !exchange.path.contains("/service_bindings/"),
                exchange.status == 200
            {
                exchange.status = 201
            }
        }
        let report = try await LivePolybroker.report(.osb, only: ["G", "P", "I"], through: breakage)
        // Then every case that re-sends an identical PUT fails; I4 fails too when one of its five
        // parallel PUTs arrives after the provision finished (200 → 201: two 201s), which depends on timing
        let failed = Set(report.failedIDs)
        #expect(failed.isSuperset(of: ["G16", "P8a", "P8b", "I1"]))
        #expect(failed.isSubset(of: ["G16", "P8a", "P8b", "I1", "I4"]))
    }

    @Test func tsuruReportsA500ForAMissingName() async throws {
        // Given a tsuru service API that answers 500 to a form create without a name
        let breakage: Breakage = { exchange in
            let form = exchange.requestHeaders[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true
            let named = exchange.requestBody.split(separator: "&").contains { $0.hasPrefix("name=") && $0.count > 5 }
            if exchange.method == "POST", exchange.path.hasSuffix("/resources"), form, !named {
                exchange.status = 500
                exchange.body = ByteBuffer(string: "internal server error")
            }
        }
        let report = try await LivePolybroker.report(.tsuru, through: breakage)
        // Then the missing and empty name cases fail, and the garbage case sees the 5xx
        #expect(report.failedIDs == ["T8a", "T8b", "T24"])
    }

    @Test func apceraReportsA200ForDeletingAGoneBinding() async throws {
        // Given a gateway that answers 200 instead of 404 when a binding to delete does not exist (any more)
        let breakage: Breakage = { exchange in
            if exchange.method == "DELETE", exchange.path.contains("/apcera/bindings/"), exchange.status == 404 {
                exchange.status = 200
                exchange.body = ByteBuffer(string: "{}")
            }
        }
        let report = try await LivePolybroker.report(.apcera, through: breakage)
        #expect(Set(report.failedIDs) == ["A27", "A28b", "A43", "A47"])
    }

    @Test func registryReportsAMissingResponseID() async throws {
        // Given a registry whose successful answers lack X-Response-Id
        let breakage: Breakage = { exchange in
            if exchange.status < 300 { exchange.headers.removeAll { $0.0.lowercased() == "x-response-id" } }
        }
        let report = try await LivePolybroker.report(.registry, only: ["R1", "R4", "R6", "R17", "R27", "R43", "R46"], through: breakage)
        #expect(report.failedIDs == ["R46"])
        #expect(report.passed == 6)
    }
}

/// The runner itself: filters, time bounds, clean-ups, the summary line, setup errors.
struct ConformanceRunnerTests {
    @Test func unreachableServerIsASetupError() async throws {
        // Given nothing listens on the port
        var options = ConformanceOptions(url: "http://127.0.0.1:9/cf")
        options.requestTimeout = 2
        // Then the suite does not start (the CLI exits 2)
        await #expect(throws: SetupError.self) { try await ConformanceSuites.run(.osb, options: options) }
    }

    @Test func badOptionsAreSetupErrors() async throws {
        await #expect(throws: SetupError.self) { try await ConformanceSuites.run(.osb, options: ConformanceOptions(url: "ftp://x")) }
        var options = ConformanceOptions(url: "http://127.0.0.1:9")
        options.missingVersionStatus = 404
        await #expect(throws: SetupError.self) { try await ConformanceSuites.run(.osb, options: options) }
    }

    @Test func summaryLineCountsSkipsOnlyWhenThereAreSome() {
        let passed = CaseResult(id: "G1", title: "t", outcome: .passed(notes: []), seconds: 0)
        let failed = CaseResult(id: "G2", title: "t", outcome: .failed("expected 412, got 200"), seconds: 0)
        let skipped = CaseResult(id: "G3", title: "t", outcome: .skipped("why"), seconds: 0)
        #expect(ConformanceReport(protocolName: "osb", results: [passed, failed]).summary == "1 passed, 1 failed")
        #expect(ConformanceReport(protocolName: "osb", results: [passed, failed, skipped]).summary == "1 passed, 1 failed, 1 skipped")
        #expect(failed.line == "FAIL G2 t: expected 412, got 200")
        #expect(skipped.line == "SKIP G3 t: why")
    }
}
