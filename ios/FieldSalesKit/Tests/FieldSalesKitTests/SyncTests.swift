import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// Against the real `fieldsales-server` that scripts/test-bindings.sh started on 127.0.0.1.
final class SyncTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    func testEnrollsTwoDevicesSyncsThroughTheServerAndEndsWithItsDataOnTheSecond() async throws {
        let url = try TestServer.url()
        let user = try TestServer.user("sync")
        let phone = try await FieldSalesKit.enroll(path: dir.path("phone.db"), region: "KR", server: url, code: try TestServer.code("sync", 1), deviceName: "Kim's phone")
        XCTAssertEqual(phone.userId, user)
        XCTAssertTrue(phone.isEnrolled)
        let lead = try await phone.createLead(LeadDraft(name: "김민지", company: "Acme Korea", phones: ["010-1234-5678"], tags: ["expo"], notes: "명함 🤝"))
        let call = try await phone.addActivity(ActivityDraft(leadId: lead.id, kind: .call, subject: "첫 통화", occurredAt: T0))
        let pending = try await phone.pendingUploadCount()
        XCTAssertEqual(pending, 2)

        let progress = Locked<[SyncProgress]>([])
        let sent = try await phone.sync { p in progress.with { $0.append(p) } }
        XCTAssertEqual(sent.sent, 2)
        XCTAssertEqual(sent.rejected, 0)
        let after = try await phone.pendingUploadCount()
        XCTAssertEqual(after, 0)
        XCTAssertTrue(progress.get.contains { $0.phase == .push && $0.done == 2 && $0.total == 2 }, "\(progress.get)")
        XCTAssertTrue(progress.get.contains { $0.phase == .pull }, "\(progress.get)")

        let tablet = try await FieldSalesKit.enroll(path: dir.path("tablet.db"), region: "KR", server: url, code: try TestServer.code("sync", 2), deviceName: "Kim's tablet")
        let nothing = try await tablet.listLeads().items
        XCTAssertTrue(nothing.isEmpty)
        let merged = Locked<[ChangedRecords]>([])
        let handle = tablet.store.addObserver(listener: ClosureListener { c in merged.with { $0.append(c) } })
        let got = try await tablet.sync()
        XCTAssertEqual(got.received, 2)
        let detail = try await tablet.leadDetail(lead.id)
        XCTAssertEqual(detail.lead.name, "김민지")
        XCTAssertEqual(detail.lead.notes, "명함 🤝")
        XCTAssertEqual(detail.lead.phones, ["+821012345678"])
        XCTAssertEqual(detail.activities.map(\.id), [call.id])
        XCTAssertEqual(detail.activities.first?.subject, "첫 통화")
        XCTAssertTrue(merged.get.contains { $0.leads.contains(lead.id) } && merged.get.contains { $0.activities.contains(call.id) }, "\(merged.get)")
        tablet.store.removeObserver(handle: handle)

        _ = try await tablet.updateLead(lead.id, LeadPatch(stage: .contacted))
        let back = try await tablet.sync()
        XCTAssertEqual(back.sent, 1)
        _ = try await phone.sync()
        let onPhone = try await phone.lead(lead.id)
        XCTAssertEqual(onPhone.stage, .contacted)

        // A refused change (a rep may not hand a lead to another user) goes to quarantine.
        _ = try await phone.updateLead(lead.id, LeadPatch(owner: try TestServer.user("cancel")))
        let refused = try await phone.sync()
        XCTAssertEqual(refused.rejected, 1)
        let q = try await phone.quarantine()
        XCTAssertEqual(q.count, 1)
        XCTAssertEqual(q.first?.code, "forbidden")
        XCTAssertEqual(q.first?.docId, lead.id)
        XCTAssertTrue(q.first?.reason.contains("managers and admins") == true, "\(q)")
        XCTAssertFalse(q.first?.change.isEmpty ?? true)
        let reset = try await phone.lead(lead.id)
        XCTAssertEqual(reset.owner, user)
        XCTAssertEqual(reset.stage, .contacted)
    }

    func testSyncErrorsAreTyped() async throws {
        let url = try TestServer.url()
        let solo = try await FieldSalesKit.open(path: dir.path("solo.db"), userId: "rep-solo", region: "KR")
        let notEnrolled = await expectError { try await solo.sync() }
        guard case .NotEnrolled(let m)? = notEnrolled else { return XCTFail("\(String(describing: notEnrolled))") }
        XCTAssertTrue(m.contains("not enrolled"), m)

        let bad = await expectError { try await enroll(server: url, code: "AAAA-BBBB-CCCC-DDDD", deviceName: "x", actorId: newActorId()) }
        guard case .Server(let s, let code, let status)? = bad else { return XCTFail("\(String(describing: bad))") }
        XCTAssertTrue(s.contains("invalid_code"), s)
        XCTAssertEqual(code, "invalid_code")
        XCTAssertEqual(status, 403)

        let down = await expectError { try await enroll(server: "http://127.0.0.1:1", code: "AAAA-BBBB-CCCC-DDDD", deviceName: "x", actorId: newActorId()) }
        guard case .Network? = down else { return XCTFail("\(String(describing: down))") }

        _ = try FieldStore.open(path: dir.path("other.db"), userId: "rep-other", region: "KR")
        let wrong = await expectError {
            try await FieldSalesKit.enroll(path: self.dir.path("other.db"), region: "KR", server: url, code: try TestServer.code("sync", 3), deviceName: "wrong")
        }
        guard case .WrongUser(let w)? = wrong else { return XCTFail("\(String(describing: wrong))") }
        XCTAssertTrue(w.contains("belongs to 'rep-other'"), w)
    }

    func testCancellingASyncLeavesTheStoreConsistentAndTheNextSyncCarriesOn() async throws {
        let url = try TestServer.url()
        let total = 1_200
        let kit = try await FieldSalesKit.enroll(path: dir.path("cancel.db"), region: "KR", server: url, code: try TestServer.code("cancel", 1), deviceName: "cancel phone")
        _ = try await kit.createLeads((1...total).map { LeadDraft(name: "리드 \($0)", company: "Acme \($0 % 7)") })
        let queued = try await kit.pendingUploadCount()
        XCTAssertEqual(queued, Int64(total))

        let early = CancelHandle()
        early.cancel()
        let pre = await expectError { try await kit.sync(cancel: early) }
        guard case .Cancelled? = pre else { return XCTFail("\(String(describing: pre))") }
        let still = try await kit.pendingUploadCount()
        XCTAssertEqual(still, Int64(total))

        let handle = CancelHandle()
        let mid = await expectError {
            try await kit.sync(cancel: handle) { p in if p.phase == .push && p.done > 0 { handle.cancel() } }
        }
        guard case .Cancelled(let m)? = mid else { return XCTFail("\(String(describing: mid))") }
        XCTAssertEqual(m, "sync was cancelled")
        XCTAssertTrue(handle.isCancelled())
        let left = try await kit.pendingUploadCount()
        XCTAssertTrue(left > 0 && left < Int64(total), "some but not all sent: \(left) left")
        XCTAssertTrue(try kit.store.verify().ok)
        let count = try await countLeads(kit)
        XCTAssertEqual(count, total)

        let rest = try await kit.sync()
        XCTAssertEqual(Int64(rest.sent), left)
        let none = try await kit.pendingUploadCount()
        XCTAssertEqual(none, 0)

        // A new device cancelled during its first pull (here through Task cancellation).
        let tablet = try await FieldSalesKit.enroll(path: dir.path("cancel-tablet.db"), region: "KR", server: url, code: try TestServer.code("cancel", 2), deviceName: "cancel tablet")
        let pulled = Locked(false)
        let task = Task { try await tablet.sync { p in if p.phase == .pull && p.done > 0 { pulled.with { $0 = true } } } }
        while !pulled.get { try await Task.sleep(nanoseconds: 1_000_000) }
        task.cancel()
        let result = await task.result
        if case .success = result {
            // The pull may have finished before the cancel arrived; then nothing is partial.
            let all = try await countLeads(tablet)
            XCTAssertEqual(all, total)
        } else if case .failure(let e) = result {
            guard case .Cancelled? = e as? FieldsalesError else { return XCTFail("\(e)") }
            let partial = try await countLeads(tablet)
            XCTAssertTrue(partial > 0 && partial < total, "a partial pull: \(partial)")
        }
        XCTAssertTrue(try tablet.store.verify().ok)
        _ = try await tablet.sync()
        let all = try await countLeads(tablet)
        XCTAssertEqual(all, total)
        XCTAssertTrue(try tablet.store.verify().ok)
    }

    func testEnrollsAnExistingStoreAndKeepsItsLeads() async throws {
        let user = try TestServer.user("cancel")
        _ = try FieldStore.open(path: dir.path("early.db"), userId: user, region: "KR").createLead(draft: LeadDraft(name: "오프라인 리드"))
        let kit = try await FieldSalesKit.enroll(path: dir.path("early.db"), region: "KR", server: try TestServer.url(), code: try TestServer.code("cancel", 3), deviceName: "early phone")
        XCTAssertTrue(kit.isEnrolled)
        let leads = try await kit.listLeads().items
        XCTAssertEqual(leads.map(\.displayName), ["오프라인 리드"])
        let s = try await kit.sync()
        XCTAssertEqual(s.sent, 1)
    }
}
