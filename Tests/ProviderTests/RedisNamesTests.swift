import BrokerCore
import Testing

@testable import RedisProvider

/// Names and params, no server needed.
@Suite("Redis names and params")
struct RedisNamesTests {
    @Test func prefixesOfDifferentInstancesNeverContainEachOther() {
        #expect(RedisProvider.keyPrefix("9f0c1c1e-8a1b-4c1f-9d5e-0123456789ab") == "9f0c1c1e-8a1b-4c1f-9d5e-0123456789ab:")
        #expect(RedisProvider.keyPrefix("a:b") == "a%3Ab:")
        #expect(RedisProvider.keyPrefix("50% off") == "50%25%20off:")
        #expect(RedisProvider.keyPattern("we*ird?[x]\\") == "we\\*ird\\?\\[x\\]\\\\:*")
        let ids = ["a", "a:b", "a%3Ab", "a:", "ab", "a b"]
        for x in ids {
            for y in ids where x != y { #expect(!RedisProvider.keyPrefix(y).hasPrefix(RedisProvider.keyPrefix(x))) }
        }
    }

    @Test func userNamesAreURLSafeAndLongIdsHashed() {
        #expect(RedisProvider.username("inst-1", "b_1.x") == "pb.inst-1.b_5F1_2Ex")
        let long = String(repeating: "z", count: 100)
        let name = RedisProvider.username(long, "b")
        #expect(name.count == 3 + 40 + 1 + 16 + 2)
        #expect(name != RedisProvider.username(long + "z", "b"))
        #expect(!RedisProvider.username("a.b", "c").hasPrefix(RedisProvider.userPrefix("a")))
        #expect(RedisProvider.percentEncoded("pb.x~y:z@é") == "pb.x~y%3Az%40%C3%A9")
    }

    @Test(
        arguments: [
            (JSONValue.object([:]), ["'url' is required: redis://[USER]:PASSWORD@HOST:PORT"]),
            (["url": "redis://:pw@localhost"], []),
            (["url": "redis://u:pw@[::1]:7000/0", "scan_batch": 10, "timeout": 5], []),
            (["url": "rediss://u:pw@h:1"], ["'url' must use redis://: TLS (rediss://) is not supported"]),
            (["url": "redis://u:pw@h:1/2"], ["'url' must not name a database: bindings cannot SELECT, so everything lives in database 0"]),
            (
                ["url": "redis://h", "scan_batch": 0, "timeout": "x", "db": 1],
                [
                    "unknown parameter 'db': the redis provider takes only 'url', 'scan_batch' and 'timeout'",
                    "'scan_batch' must be an integer from 1 to 100000",
                    "'timeout' must be a whole number of seconds from 1 to 300",
                ]
            ),
            ("x", ["params must be an object"]),
        ] as [(JSONValue, [String])]
    )
    func paramsAreChecked(params: JSONValue, problems: [String]) {
        #expect(RedisProvider.factory.validate(params) == problems)
    }

    @Test func theAdminURLIsParsed() throws {
        let admin = try RedisProvider.Admin(url: "redis://adm%40in:p%3Ass@[::1]:7000")
        #expect(admin.host == "::1" && admin.port == 7000 && admin.username == "adm@in" && admin.password == "p:ss")
        #expect(admin.endpoint == "[::1]:7000")
        #expect("\(admin)" == "redis://adm@in:<redacted>@[::1]:7000")
        let passwordOnly = try RedisProvider.Admin(url: "redis://:secret@cache.internal")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379)
    }
}
