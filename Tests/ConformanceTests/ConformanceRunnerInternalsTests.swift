import Foundation
import Testing

@testable import Conformance

/// The runner's time bound, clean-ups and `--only` filter.
struct ConformanceRunnerInternalsTests {
    @Test func onlySelectsAnIdItsLetteredVariantsAndWholeFamilies() {
        var options = ConformanceOptions(url: "http://127.0.0.1")
        options.only = ["G7", "B", "t14a"]
        #expect(options.selects("G7") && options.selects("G7a") && options.selects("G7b"))
        #expect(!options.selects("G70") && !options.selects("G1"))
        #expect(options.selects("B1") && options.selects("B10") && options.selects("B2c"))
        #expect(!options.selects("BL1") && !options.selects("FB1"))
        #expect(options.selects("T14a") && !options.selects("T14b"))
    }

    @Test func aCaseThatRunsOverItsBoundFailsAndIsStillCleanedUp() async {
        let cleaned = Locked(false)
        let slow = ConformanceCase("X1", "slow") { scope in
            scope.cleanup { cleaned.set(true) }
            try await Task.sleep(for: .seconds(30))
        }
        let result = await ConformanceSuites.run(slow, timeout: 0.3, options: ConformanceOptions(url: "http://127.0.0.1"))
        #expect(result.outcome == .failed("timed out after 0.3 s"))
        #expect(cleaned.value)
        #expect(result.seconds < 5)
    }

    @Test func failuresAndNotesNeverShowTheConfiguredSecrets() async {
        var options = ConformanceOptions(url: "http://127.0.0.1")
        options.password = "hunter2-secret"
        let leaky = ConformanceCase("X2", "leaky") { _ in throw CaseFailure("the body was {\"password\":\"hunter2-secret\"}") }
        let result = await ConformanceSuites.run(leaky, timeout: 5, options: options)
        #expect(!result.line.contains("hunter2-secret"))
        #expect(result.line.contains("********"))
    }
}
