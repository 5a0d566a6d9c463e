import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class EnrollViewModelTests: ViewModelTestCase {
    @MainActor
    func testAPastedCodeIsReadAndTheDeviceEnrollsWithTheRealServer() async throws {
        let session = AppSession(storePath: dir.path("enroll.db"), region: "KR", context: .english())
        await session.start()
        XCTAssertNil(session.core, "no store yet: the Enroll screen shows")
        let form = session.enrollModel(deviceName: "Kim's iPhone")
        XCTAssertFalse(form.canEnroll)

        let code = try TestServer.get("swift.ui.kim.code.4")
        form.paste("Your Fieldsales code: \(code.lowercased().replacingOccurrences(of: "-", with: " ")) server \(try TestServer.url())")
        XCTAssertEqual(form.code, code, "letters upper-cased, grouped by four")
        XCTAssertEqual(form.server, try TestServer.url())
        XCTAssertTrue(form.canEnroll)
        let ok = await form.enroll()
        XCTAssertTrue(ok, form.errorText ?? form.codeError ?? "")
        let core = try XCTUnwrap(session.core)
        XCTAssertEqual(core.userId, try uiUser("kim"))
        XCTAssertTrue(core.isEnrolled)

        // The next start opens the enrolled store.
        let again = AppSession(storePath: dir.path("enroll.db"), region: "KR", context: .english())
        await again.start()
        XCTAssertEqual(again.core?.userId, try uiUser("kim"))
    }

    @MainActor
    func testTheTeamTabShowsOnAManagersDeviceAndNotOnARepsDevice() async throws {
        for (user, role, shows) in [("rep-tabs", "rep", false), ("mgr-tabs", "manager", true)] {
            let path = dir.path("\(user).db")
            let kit = try await FieldSalesKit.open(path: path, userId: user, region: "KR")
            try kit.store.saveCredentials(credentials: Credentials(server: "http://127.0.0.1:1", deviceId: "d-\(user)", token: "t",
                                                                  userId: user, workspaceId: "w", role: role))
            let session = AppSession(storePath: path, region: "KR", context: .english())
            await session.start()
            XCTAssertNotNil(session.core, session.errorText ?? "")
            XCTAssertEqual(session.showsTeam, shows, role)
        }
    }

    @MainActor
    func testAnExpiredCodeNoNetworkAndBadInputAreSaidPlainly() async throws {
        let session = AppSession(storePath: dir.path("enroll.db"), region: "KR", context: .korean())
        let form = session.enrollModel(deviceName: "")

        form.server = "not a server"
        form.codeText = "AAAA-BBBB-CCCC-DDDD"
        var ok = await form.enroll()
        XCTAssertFalse(ok)
        XCTAssertEqual(form.serverError, "https://sync.example.com 과 같은 서버 주소를 입력하세요.")
        XCTAssertEqual(form.accessibilityLabel(.server), "서버 주소, 오류: https://sync.example.com 과 같은 서버 주소를 입력하세요.")

        form.server = try TestServer.url()
        form.codeText = "ABCD-EFGH"
        ok = await form.enroll()
        XCTAssertFalse(ok)
        XCTAssertEqual(form.codeError, "코드는 ABCD-EFGH-JKMN-PQRS 처럼 영문과 숫자 16자입니다.")

        // A code the server does not know (used, expired or mistyped).
        form.codeText = "ABCD-EFGH-JKMN-PQRS"
        ok = await form.enroll()
        XCTAssertFalse(ok)
        XCTAssertEqual(form.codeError, "만료되었거나 이미 사용한 코드입니다. 관리자에게 새 코드를 요청하세요.")
        XCTAssertNil(form.errorText)

        // No network: nothing listens there.
        form.server = "http://127.0.0.1:1"
        ok = await form.enroll()
        XCTAssertFalse(ok)
        XCTAssertEqual(form.errorText, "네트워크에 연결되지 않았습니다. 연결과 서버 주소를 확인하고 다시 시도하세요.")
        XCTAssertNil(session.core)
        XCTAssertFalse(FileManager.default.fileExists(atPath: session.storePath), "no store is made for a failed enrollment")

        // A bare host gets https://.
        form.server = "sync.example.com"
        XCTAssertEqual(form.serverURL, "https://sync.example.com")
    }
}
