import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// Issue 14: a refused change reads in plain words (the record, each field old → new, why, what
/// to do), is applied again where the rep may, or dropped. Against the real `fieldsales-server`
/// that scripts/test-bindings.sh started.
final class QuarantineTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    func testARefusedChangeReadsInPlainWordsAppliesWhereTheRepMayAndIsDiscarded() async throws {
        let colleague = try TestServer.user("sync")
        let phone = try await FieldSalesKit.enroll(path: dir.path("phone.db"), region: "KR", server: try TestServer.url(), code: try TestServer.code("quarantine", 1), deviceName: "Kim's phone")
        let lead = try await phone.createLead(LeadDraft(name: "Yuna Jung", company: "Hanbit", notes: "Met at the booth."))
        let first = try await phone.sync()
        XCTAssertEqual(first.sent, 1)

        // A rep hands the lead over and edits it in one go: the server refuses the change.
        _ = try await phone.updateLead(lead.id, LeadPatch(company: "Hanbit Tech", dealValue: Money(amountMinor: 2_500_000, currency: "USD"), owner: colleague, notes: "Met at the booth. Over to you."))
        let refused = try await phone.sync()
        XCTAssertEqual(refused.rejected, 1)
        let entries = try await phone.quarantine()
        XCTAssertEqual(entries.count, 1)
        let entry = entries[0]
        XCTAssertEqual(entry.detail.record, "Yuna Jung")
        let fields = Dictionary(uniqueKeysWithValues: entry.detail.fields.map { ($0.field, $0) })
        XCTAssertEqual(fields["company"]?.old, "Hanbit")
        XCTAssertEqual(fields["company"]?.new, "Hanbit Tech")
        XCTAssertEqual(fields["notes"]?.new, " Over to you.")
        XCTAssertEqual(fields["owner"]?.new, colleague)
        XCTAssertEqual(try formatFieldValue(field: "deal", raw: fields["deal"]?.new ?? "", timeZone: "Asia/Seoul"), "25,000.00 USD")
        XCTAssertTrue(entry.why.contains("only managers and admins may give a lead to someone else"), entry.why)
        XCTAssertTrue(entry.whatToDo.contains("quarantine apply"), entry.whatToDo)
        XCTAssertTrue(entry.canApply)
        let same = try await phone.quarantineEntry(entry.id)
        XCTAssertEqual(same, entry)

        // Applied where a rep may: the edits go as a new change, the hand-over is left out.
        let done = try await phone.applyQuarantined(entry.id)
        XCTAssertFalse(done.resent)
        XCTAssertEqual(done.cleared, [entry.id])
        XCTAssertEqual(done.skipped.count, 1)
        XCTAssertTrue(done.skipped[0].hasPrefix("owner"), "\(done.skipped)")
        let back = try await phone.lead(lead.id)
        XCTAssertEqual(back.company, "Hanbit Tech")
        XCTAssertEqual(back.notes, "Met at the booth. Over to you.")
        XCTAssertEqual(back.owner, phone.userId)
        let synced = try await phone.sync()
        XCTAssertEqual(synced.sent, 1)
        XCTAssertEqual(synced.rejected, 0)

        // Another refusal, dropped on purpose.
        _ = try await phone.updateLead(lead.id, LeadPatch(owner: colleague))
        let again = try await phone.sync()
        XCTAssertEqual(again.rejected, 1)
        let second = try await phone.quarantine()
        XCTAssertEqual(second.count, 1)
        let dropped = try await phone.discardQuarantined(second[0].id)
        XCTAssertEqual(dropped.id, second[0].id)
        let none = try await phone.quarantine()
        XCTAssertTrue(none.isEmpty)
        do {
            _ = try await phone.quarantineEntry(second[0].id)
            XCTFail("a discarded entry is gone")
        } catch FieldsalesError.NotFound {
        }
    }
}
