import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

/// 2026-11-02 09:00 UTC, a Monday: 18:00 in Seoul, 04:00 in New York.
let mondayT0 = Date(timeIntervalSince1970: Double(T0) / 1000)
let seoul = TimeZone(identifier: "Asia/Seoul")!
let newYork = TimeZone(identifier: "America/New_York")!

extension UIContext {
    /// Korean, in Seoul unless told; the real clock unless `now` is given.
    static func korean(_ zone: TimeZone = seoul, now: Date? = nil) -> UIContext {
        UIContext(locale: Locale(identifier: "ko_KR"), timeZone: zone, now: clock(now))
    }

    static func english(_ zone: TimeZone = seoul, now: Date? = nil) -> UIContext {
        UIContext(locale: Locale(identifier: "en_US"), timeZone: zone, now: clock(now))
    }

    private static func clock(_ fixed: Date?) -> @Sendable () -> Date {
        guard let fixed else { return { Date() } }
        return { fixed }
    }
}

/// A view-model test: a fresh folder and stores opened in it.
class ViewModelTestCase: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    /// A store that never enrolled (no role known: nothing restricted), as the calls' seam.
    func openCore(_ user: String = "rep-kim", file: String? = nil) async throws -> CoreCalls {
        CoreCalls(kit: try await FieldSalesKit.open(path: dir.path(file ?? "\(user).db"), userId: user, region: "KR"))
    }

    /// A device enrolled with the test server as one of the UI test users (kim, lee, park).
    @MainActor
    func enrolledSession(_ who: String, code n: Int, file: String, context: UIContext = .english()) async throws -> AppSession {
        let session = AppSession(storePath: dir.path(file), region: "KR", context: context)
        try await session.enroll(server: try TestServer.url(), code: try TestServer.get("swift.ui.\(who).code.\(n)"), deviceName: "\(who) \(file)")
        return session
    }

    func uiUser(_ who: String) throws -> String {
        try TestServer.get("swift.ui.\(who).user")
    }
}
