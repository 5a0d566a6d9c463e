import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// Live updates against the real `fieldsales-server` that scripts/test-bindings.sh started.
final class LiveUpdatesTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    func testADeviceIteratingLiveUpdatesReceivesALeadItsOtherDeviceCaptured() async throws {
        let url = try TestServer.url()
        let phone = try await FieldSalesKit.enroll(path: dir.path("phone.db"), region: "KR", server: url, code: try TestServer.code("live", 1), deviceName: "phone")
        let tablet = try await FieldSalesKit.enroll(path: dir.path("tablet.db"), region: "KR", server: url, code: try TestServer.code("live", 2), deviceName: "tablet")
        var updates: [LiveUpdate] = []
        var captured: Lead?
        for try await update in tablet.liveUpdates() {
            updates.append(update)
            if case .connected = update, captured == nil {
                let lead = try await phone.createLead(LeadDraft(name: "Live 라이브"))
                captured = lead
                let sent = try await phone.sync()
                XCTAssertEqual(sent.sent, 1)
            }
            if case .synced(let summary) = update, summary.received > 0 {
                break
            }
        }
        guard case .connected = updates.first else {
            return XCTFail("\(updates)")
        }
        let lead = try XCTUnwrap(captured)
        let onTablet = try await tablet.lead(lead.id)
        XCTAssertEqual(onTablet.name, "Live 라이브")
    }
}
