import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import Observation
import XCTest

final class SyncViewModelTests: ViewModelTestCase {
    /// Against the real server: the waiting count, a progress bar that moves, and after the
    /// sync the count cleared, the time shown and the list's "not synced" marks gone.
    @MainActor
    func testASyncShowsProgressAndClearsTheWaitingCount() async throws {
        let session = try await enrolledSession("lee", code: 1, file: "lee.db")
        let core = try XCTUnwrap(session.core)
        _ = try await core.kit.createLeads((0..<700).map { LeadDraft(name: "리드 \($0)", company: "Acme \($0 % 9)") })
        let sync = session.syncModel(core)
        let list = session.leadsModel(core)
        await list.settled()
        XCTAssertEqual(list.rows.count, 50)
        XCTAssertTrue(list.rows.allSatisfy(\.isUnsynced), "nothing is on the server yet")
        await sync.load()
        XCTAssertEqual(sync.waiting, 700)
        XCTAssertEqual(sync.waitingText, "700 changes waiting to be sent")
        XCTAssertEqual(sync.lastSyncedText, "Not synced yet on this phone")
        XCTAssertEqual(sync.accessibilityLabel(.sync), "Sync now, 700 changes waiting to be sent")

        // What a screen observing `progress` sees.
        let seen = Locked<[Double?]>([])
        func observe() {
            withObservationTracking { _ = sync.progress } onChange: {
                Task { @MainActor in seen.with { $0.append(sync.progress) }; observe() }
            }
        }
        observe()
        await sync.sync()
        XCTAssertNil(sync.errorText)
        XCTAssertNil(sync.progress, "the bar goes when the sync ends")
        XCTAssertEqual(sync.progressLog.first, 0)
        XCTAssertTrue(sync.progressLog.contains { $0 > 0 && $0 <= 0.5 }, "sending moved the bar: \(sync.progressLog)")
        XCTAssertEqual(sync.progressLog, sync.progressLog.sorted(), "never backwards")
        XCTAssertTrue(seen.get.contains { ($0 ?? 0) > 0 }, "observers were told: \(seen.get)")
        XCTAssertEqual(sync.waiting, 0)
        XCTAssertEqual(sync.waitingText, "All changes are on the server")
        XCTAssertTrue(sync.statusText?.hasPrefix("Sent 700, received") == true, sync.statusText ?? "")
        XCTAssertTrue(sync.lastSyncedText.hasPrefix("Last synced "), sync.lastSyncedText)
        XCTAssertNotEqual(sync.lastSyncedText, "Not synced yet on this phone")
        try await waitUntil { list.loadCount >= 2 && !list.rows.contains(where: \.isUnsynced) }
        XCTAssertEqual(list.rows.count, 50, "the marks went; the rows stayed")
    }

    @MainActor
    func testACancelledSyncSaysWhatHappenedAndKeepsTheRest() async throws {
        let session = try await enrolledSession("lee", code: 2, file: "lee-cancel.db")
        let core = try XCTUnwrap(session.core)
        _ = try await core.kit.createLeads((0..<2_000).map { LeadDraft(name: "취소 \($0)") })
        let sync = session.syncModel(core)
        await sync.load()
        // Four batches of 500 to send: the sync waits after the first until the cancel is in, so
        // the cancel lands mid-way however fast or loaded the machine is.
        let midway = DispatchSemaphore(value: 0)
        let cancelled = DispatchSemaphore(value: 0)
        let held = Locked(false)
        sync.onStep = { p in
            guard p.phase == .push, p.done > 0, p.done < p.total,
                  held.with({ was in defer { was = true }; return !was }) else { return }
            midway.signal()
            _ = cancelled.wait(timeout: .now() + 20)
        }
        async let running: Void = sync.sync()
        await Task.detached { midway.wait() }.value
        XCTAssertTrue(sync.isSyncing)
        sync.cancel()
        cancelled.signal()
        await running
        XCTAssertEqual(sync.statusText, "Sync cancelled. What was sent stays sent; the next sync carries on.")
        XCTAssertNil(sync.errorText)
        XCTAssertTrue(sync.waiting > 0 && sync.waiting < 2_000, "some sent, some waiting: \(sync.waiting)")
        await sync.sync()
        XCTAssertEqual(sync.waiting, 0)
    }

    @MainActor
    func testErrorsAreInPlainWordsAndRefusedChangesAreListed() async throws {
        // Not enrolled.
        let solo = try await openCore("rep-solo")
        let notEnrolled = SyncViewModel(core: solo, context: .english()) {}
        await notEnrolled.sync()
        XCTAssertEqual(notEnrolled.errorText, "This phone is not connected to a server yet.")

        // No network: a server nobody listens on.
        let offline = try await openCore("rep-offline")
        try offline.kit.store.saveCredentials(credentials: Credentials(server: "http://127.0.0.1:1", deviceId: "d", token: "t",
                                                                      userId: "rep-offline", workspaceId: "w", role: "rep"))
        let off = SyncViewModel(core: offline, context: .korean()) {}
        await off.sync()
        XCTAssertEqual(off.errorText, "오프라인이거나 서버에 연결할 수 없습니다. 변경 사항은 이 휴대폰에 안전하게 있습니다. 나중에 다시 시도하세요.")
        XCTAssertFalse(off.isSyncing)

        // Revoked (or unknown) device: the server answers 401.
        let revoked = try await openCore("rep-revoked")
        try revoked.kit.store.saveCredentials(credentials: Credentials(server: try TestServer.url(), deviceId: "d", token: "not-a-token",
                                                                      userId: "rep-revoked", workspaceId: "w", role: "rep"))
        let rv = SyncViewModel(core: revoked, context: .english()) {}
        await rv.sync()
        XCTAssertEqual(rv.errorText, "This phone was signed out by your admin. Ask for a new code to connect it again.")

        // A change the server refuses (a rep may not hand a lead to someone else) is listed.
        let session = try await enrolledSession("lee", code: 3, file: "lee-refused.db")
        let core = try XCTUnwrap(session.core)
        let lead = try await core.createLead(LeadDraft(name: "김민지", company: "Acme Korea"))
        _ = try await core.kit.sync()
        _ = try await core.updateLead(lead.id, LeadPatch(owner: try uiUser("kim")))
        let sync = session.syncModel(core)
        await sync.sync()
        XCTAssertEqual(sync.errorText, "The server refused 1 change. It is kept below, nothing was lost.")
        XCTAssertEqual(sync.quarantine.count, 1)
        let row = try XCTUnwrap(sync.quarantine.first)
        XCTAssertTrue(row.title.hasPrefix("Lead"), row.title)
        XCTAssertTrue(row.reason.contains("managers and admins"), row.reason)
        XCTAssertTrue(row.accessibilityLabel.contains("refused"), row.accessibilityLabel)
    }

    @MainActor
    func testSigningOutWithUnsyncedChangesAsksFirstAndSaysHowMany() async throws {
        let session = try await enrolledSession("kim", code: 3, file: "kim-signout.db", context: .korean())
        let core = try XCTUnwrap(session.core)
        _ = try await core.createLead(LeadDraft(name: "김민지"))
        _ = try await core.createLead(LeadDraft(name: "이영희"))
        let sync = session.syncModel(core)
        await sync.requestSignOut()
        XCTAssertEqual(sync.confirmation?.message,
                       "이 휴대폰의 변경 사항 2건이 아직 동기화되지 않았습니다. 로그아웃하면 영구히 삭제됩니다.")
        XCTAssertEqual(sync.confirmation?.confirmLabel, "그래도 로그아웃")
        XCTAssertNotNil(session.core, "nothing happens before the rep answers")
        sync.cancelSignOut()
        XCTAssertNil(sync.confirmation)
        XCTAssertTrue(FileManager.default.fileExists(atPath: session.storePath))

        await sync.sync()
        XCTAssertEqual(sync.waiting, 0)
        _ = try await core.createLead(LeadDraft(name: "박지성"))
        await sync.requestSignOut()
        XCTAssertEqual(sync.confirmation?.message,
                       "이 휴대폰의 변경 사항 1건이 아직 동기화되지 않았습니다. 로그아웃하면 영구히 삭제됩니다.")
        await sync.confirmSignOut()
        XCTAssertNil(session.core, "back to the Enroll screen")
        XCTAssertFalse(FileManager.default.fileExists(atPath: session.storePath), "the store is gone")
    }

    @MainActor
    func testSigningOutWithNothingWaitingGoesAheadWithoutAsking() async throws {
        let session = try await enrolledSession("park", code: 4, file: "park-signout.db")
        let core = try XCTUnwrap(session.core)
        let sync = session.syncModel(core)
        await sync.requestSignOut()
        XCTAssertNil(sync.confirmation)
        XCTAssertNil(session.core)
        XCTAssertFalse(FileManager.default.fileExists(atPath: session.storePath))
    }
}
