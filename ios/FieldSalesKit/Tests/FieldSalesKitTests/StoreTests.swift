import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import Observation
import XCTest

final class StoreTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    func kit(_ name: String = "rep.db", user: String = "rep-kim") async throws -> FieldSalesKit {
        try await FieldSalesKit.open(path: dir.path(name), userId: user, region: "KR")
    }

    func testOpensAStoreInATempDirAndRefusesAnotherUsersFile() async throws {
        let kit = try await kit()
        XCTAssertEqual(kit.userId, "rep-kim")
        XCTAssertEqual(kit.store.region(), "KR")
        XCTAssertEqual(kit.store.actorId().count, 32)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("rep.db")))
        let empty = try await kit.listLeads()
        XCTAssertEqual(empty.items, [])
        XCTAssertFalse(kit.isEnrolled)

        let wrong = await expectError { try FieldStore.open(path: self.dir.path("rep.db"), userId: "rep-lee", region: "KR") }
        guard case .WrongUser(let m)? = wrong else { return XCTFail("\(String(describing: wrong))") }
        XCTAssertTrue(m.contains("belongs to user 'rep-kim'"), m)
        let region = await expectError { try FieldStore.open(path: self.dir.path("other.db"), userId: "rep-kim", region: "Atlantis") }
        guard case .Validation(let r, nil)? = region else { return XCTFail("\(String(describing: region))") }
        XCTAssertTrue(r.contains("'Atlantis' is not a known region code"), r)
    }

    func testCapturesALeadWithEveryFieldTypeKoreanNameAndEmojiNotes() async throws {
        let kit = try await kit()
        let notes = "명함 교환 🤝 at booth B12 🚀 — follow up re: 2 pallets"
        let lead = try await kit.createLead(LeadDraft(
            name: "  김민지  ", company: "Acme Korea", title: "구매 담당", emails: ["MinJi@Acme.co.kr"],
            phones: ["010-1234-5678"], event: "Seoul Expo 2026", channel: .businessCard, stage: .qualified,
            potential: .hot, dealValue: try parseMoney(amount: "1,500,000", currency: "krw"), tags: ["expo", "vip"],
            notes: notes, customFields: [CustomField(key: "booth", value: "B12"), CustomField(key: "badge", value: "A-0042")],
            nextFollowUp: T0 + 86_400_000
        ))
        let read = try await kit.lead(lead.id)
        XCTAssertEqual(read, lead)
        XCTAssertEqual(read.name, "김민지")
        XCTAssertEqual(read.company, "Acme Korea")
        XCTAssertEqual(read.title, "구매 담당")
        XCTAssertEqual(read.emails, ["minji@acme.co.kr"])
        XCTAssertEqual(read.phones, ["+821012345678"])
        XCTAssertEqual(read.source.event, "Seoul Expo 2026")
        XCTAssertEqual(read.source.channel, .businessCard)
        XCTAssertEqual(read.stage, .qualified)
        XCTAssertEqual(read.potential, .hot)
        XCTAssertEqual(read.dealValue, Money(amountMinor: 1_500_000, currency: "KRW"))
        XCTAssertEqual(formatMoney(money: read.dealValue!), "1,500,000 KRW")
        XCTAssertEqual(read.owner, "rep-kim")
        XCTAssertEqual(read.tags, ["expo", "vip"])
        XCTAssertEqual(read.notes, notes)
        XCTAssertEqual(read.customFields, [CustomField(key: "badge", value: "A-0042"), CustomField(key: "booth", value: "B12")])
        XCTAssertEqual(read.nextFollowUp, T0 + 86_400_000)
        XCTAssertEqual(read.stageHistory.map(\.stage), [.qualified])
        XCTAssertFalse(read.deleted)
        XCTAssertEqual(read.conflicts, [])

        let row = try await kit.listLeads().items
        XCTAssertEqual(row.count, 1)
        XCTAssertEqual(row.first?.displayName, "김민지")
        XCTAssertEqual(row.first?.email, "minji@acme.co.kr")
        XCTAssertEqual(row.first?.phone, "+821012345678")

        let lost = try await kit.createLead(LeadDraft(company: "Beta Ltd", stage: .lost, lostReason: "budget cut 💸"))
        XCTAssertEqual(lost.lostReason, "budget cut 💸")
        let visit = try await kit.addActivity(ActivityDraft(
            leadId: lead.id, kind: .visit, subject: "공장 방문 🏭", notes: "met the plant manager", occurredAt: T0,
            durationS: 5_400, outcome: "sample order", location: Location(lat: 37.5665, lon: 126.9780, accuracyM: 12.5)
        ))
        let back = try kit.store.activity(id: visit.id)
        XCTAssertEqual(back.location, Location(lat: 37.5665, lon: 126.9780, accuracyM: 12.5))
        XCTAssertEqual(back.durationS, 5_400)
        XCTAssertEqual(back.subject, "공장 방문 🏭")
        XCTAssertEqual(back.occurredAt, T0)
        XCTAssertTrue(back.done)
    }

    func testListsFiltersPagesSearchesAndShowsDetailWithActivities() async throws {
        let kit = try await kit()
        let kim = try await kit.createLead(LeadDraft(name: "김철수", company: "Acme", event: "Seoul Expo", stage: .new, tags: ["expo"]))
        let lee = try await kit.createLead(LeadDraft(name: "이영희", company: "Globex", stage: .proposal, potential: .warm))
        let park = try await kit.createLead(LeadDraft(name: "Park Ji-sung", company: "Acme Logistics", stage: .new, tags: ["expo"]))
        _ = try await kit.createLead(LeadDraft(company: "Initech", stage: .won))

        let all = try await kit.listLeads().items
        XCTAssertEqual(all.count, 4)
        let new = try await kit.listLeads(LeadQuery(stages: [.new], sort: .updated)).items
        XCTAssertEqual(Set(new.map(\.id)), [kim.id, park.id])
        let warm = try await kit.listLeads(LeadQuery(potential: .warm, sort: .updated)).items
        XCTAssertEqual(warm.map(\.id), [lee.id])
        let tagged = try await kit.listLeads(LeadQuery(tag: "expo", sort: .updated)).items
        XCTAssertEqual(Set(tagged.map(\.id)), [kim.id, park.id])
        let expo = try await kit.listLeads(LeadQuery(event: "Seoul Expo", sort: .updated)).items
        XCTAssertEqual(expo.map(\.id), [kim.id])

        let first = try await kit.listLeads(LeadQuery(sort: .name, limit: 2))
        XCTAssertEqual(first.items.map(\.displayName), ["Initech", "Park Ji-sung"])
        XCTAssertNotNil(first.next)
        let second = try await kit.listLeads(LeadQuery(sort: .name, limit: 2, after: first.next))
        XCTAssertEqual(second.items.map(\.displayName), ["김철수", "이영희"])
        XCTAssertNil(second.next)
        let badCursor = await expectError { try await kit.listLeads(LeadQuery(sort: .name, after: "zz")) }
        guard case .InvalidData? = badCursor else { return XCTFail("\(String(describing: badCursor))") }

        let korean = try await kit.searchLeads("김철")
        XCTAssertEqual(korean.map(\.id), [kim.id])
        let acm = try await kit.searchLeads("acm")
        XCTAssertEqual(Set(acm.map(\.id)), [kim.id, park.id])
        let logi = try await kit.searchLeads("acme logi")
        XCTAssertEqual(logi.map(\.id), [park.id])
        let nobody = try await kit.searchLeads("nobody")
        XCTAssertTrue(nobody.isEmpty)

        let call = try await kit.addActivity(ActivityDraft(leadId: kim.id, kind: .call, subject: "Intro call", occurredAt: T0))
        let task = try await kit.addActivity(ActivityDraft(leadId: kim.id, kind: .task, subject: "Send quote", dueAt: T0 + 3_600_000))
        XCTAssertFalse(task.done)
        XCTAssertEqual(try kit.store.reminders(nowMs: T0, limit: 10).map(\.activityId), [task.id])
        let week = try await kit.followUps(nowMs: T0 - 2 * 86_400_000, timeZone: "Asia/Seoul")
        XCTAssertEqual(week.upcoming.map(\.activityId), [task.id])
        let detail = try await kit.leadDetail(kim.id)
        XCTAssertEqual(detail.lead.id, kim.id)
        XCTAssertEqual(detail.activities.map(\.id), [task.id, call.id])
        let due = try await kit.followUps(nowMs: T0 + 7_200_000, timeZone: "Asia/Seoul")
        XCTAssertEqual(due.overdue.map(\.activityId), [task.id])
        XCTAssertEqual(due.overdue.first?.leadName, "김철수")
        let completed = try await kit.completeActivity(task.id)
        XCTAssertTrue(completed.done)
        let none = try await kit.followUps(nowMs: T0 + 7_200_000, timeZone: "Asia/Seoul")
        XCTAssertTrue(none.overdue.isEmpty)
        _ = try await kit.deleteActivity(call.id)
        let left = try await kit.leadDetail(kim.id).activities
        XCTAssertEqual(left.map(\.id), [task.id])

        let edited = try await kit.updateLead(lee.id, LeadPatch(stage: .negotiation, addTags: ["q4"], clear: [.potential]))
        XCTAssertEqual(edited.stage, .negotiation)
        XCTAssertNil(edited.potential)
        XCTAssertEqual(edited.tags, ["q4"])
        XCTAssertEqual(edited.stageHistory.map(\.stage), [.proposal, .negotiation])
        let deleted = try await kit.deleteLead(lee.id)
        XCTAssertTrue(deleted.deleted)
        let live = try await kit.listLeads().items
        XCTAssertFalse(live.contains { $0.id == lee.id })
        let bin = try await kit.listLeads(LeadQuery(deleted: true, sort: .updated)).items
        XCTAssertEqual(bin.map(\.id), [lee.id])
        let restored = try await kit.restoreLead(lee.id)
        XCTAssertFalse(restored.deleted)
        let back = try await kit.listLeads().items
        XCTAssertTrue(back.contains { $0.id == lee.id })
    }

    func testASecondStoresConcurrentEditMergesIntoAConflict() async throws {
        let phone = try await kit("phone.db")
        let tablet = try await kit("tablet.db")
        let lead = try await phone.createLead(LeadDraft(name: "김민지", company: "Acme", notes: "hello"))
        func snapshot(_ from: FieldSalesKit) throws -> RemoteDocument {
            RemoteDocument(docId: lead.id, kind: .lead, payload: .snapshot(data: try from.store.documentBytes(id: lead.id)))
        }

        let report = try tablet.store.applyRemote(documents: [try snapshot(phone)])
        XCTAssertEqual(report.changedLeads, [lead.id])
        let copy = try await tablet.lead(lead.id)
        XCTAssertEqual(copy.company, "Acme")

        _ = try await phone.updateLead(lead.id, LeadPatch(company: "Acme Korea", notes: "hello from the phone"))
        _ = try await tablet.updateLead(lead.id, LeadPatch(company: "ACME Seoul"))
        _ = try phone.store.applyRemote(documents: [try snapshot(tablet)])
        _ = try tablet.store.applyRemote(documents: [try snapshot(phone)])

        let onPhone = try await phone.lead(lead.id)
        let onTablet = try await tablet.lead(lead.id)
        XCTAssertEqual(onPhone.company, onTablet.company, "every replica shows the same winner")
        let conflict = try XCTUnwrap(onPhone.conflicts.first { $0.field == "company" })
        XCTAssertEqual(Set(conflict.values), ["Acme Korea", "ACME Seoul"])
        XCTAssertEqual(conflict.values.first, onPhone.company)
        XCTAssertEqual(onPhone.conflicts, onTablet.conflicts)
        XCTAssertEqual(onTablet.notes, "hello from the phone")
        let rows = try await phone.listLeads().items
        XCTAssertEqual(rows.map(\.hasConflicts), [true])

        let resolved = try await phone.updateLead(lead.id, LeadPatch(company: "Acme Korea"))
        XCTAssertFalse(resolved.conflicts.contains { $0.field == "company" })
        XCTAssertTrue(try phone.store.verify().ok)

        let bad = RemoteDocument(docId: UUID().uuidString.lowercased(), kind: .lead, payload: .snapshot(data: Data([1, 2, 3])))
        let refused = await expectError { try tablet.store.applyRemote(documents: [bad]) }
        guard case .InvalidData? = refused else { return XCTFail("\(String(describing: refused))") }
    }

    func testValidationErrorsSurfaceAsTypedErrorsWithReadableMessages() async throws {
        let kit = try await kit()
        let empty = await expectError { try await kit.createLead(LeadDraft()) }
        guard case .Validation(let m, let f)? = empty else { return XCTFail("\(String(describing: empty))") }
        XCTAssertEqual(f, .name, "a lead with nothing to identify it: on the first field")
        XCTAssertEqual(m, "a lead needs at least a name, a company, an e-mail address or a phone number")
        XCTAssertEqual(empty?.message, m)
        let email = await expectError { try await kit.createLead(LeadDraft(name: "x", emails: ["not-an-email"])) }
        XCTAssertEqual(email?.message, "'not-an-email' is not a valid e-mail address")
        guard case .Validation(_, .email?)? = email else { return XCTFail("the e-mail field: \(String(describing: email))") }
        let phone = await expectError { try await kit.createLead(LeadDraft(name: "x", phones: ["12"])) }
        XCTAssertEqual(phone?.message, "'12' is not a valid phone number (default region KR)")
        guard case .Validation(_, .phone?)? = phone else { return XCTFail("the phone field: \(String(describing: phone))") }
        let money = await expectError { try parseMoney(amount: "1500.5", currency: "KRW") }
        XCTAssertTrue(money?.message.contains("KRW has no decimal places") == true, "\(String(describing: money))")
        let none = try await kit.listLeads().items
        XCTAssertTrue(none.isEmpty, "nothing was written")

        let missing = UUID().uuidString.lowercased()
        let nf = await expectError { try await kit.lead(missing) }
        guard case .NotFound(let n)? = nf else { return XCTFail("\(String(describing: nf))") }
        XCTAssertEqual(n, "lead \(missing) was not found")
        let badId = await expectError { try await kit.lead("not-an-id") }
        guard case .Validation? = badId else { return XCTFail("\(String(describing: badId))") }
        let made = try await kit.createLead(LeadDraft(id: missing, name: "x"))
        XCTAssertEqual(made.id, missing)
        let dup = await expectError { try await kit.createLead(LeadDraft(id: missing, name: "y")) }
        guard case .AlreadyExists? = dup else { return XCTFail("\(String(describing: dup))") }
        // A Swift Error like any other: LocalizedError gives a description.
        let anyError: Error = try XCTUnwrap(dup)
        XCTAssertTrue(anyError.localizedDescription.contains("already exists"), anyError.localizedDescription)
    }

    func testTheChangeObserverFiresAfterAWrite() async throws {
        let kit = try await kit()
        let seen = Locked<[ChangedRecords]>([])
        let handle = kit.store.addObserver(listener: ClosureListener { c in seen.with { $0.append(c) } })
        let lead = try await kit.createLead(LeadDraft(name: "김민지"))
        XCTAssertEqual(seen.get.map(\.leads), [[lead.id]])
        let note = try await kit.addActivity(ActivityDraft(leadId: lead.id, kind: .note, subject: "note"))
        XCTAssertEqual(seen.get.last?.activities, [note.id])
        _ = try await kit.updateLead(lead.id, LeadPatch(name: "김민지")) // changes nothing
        XCTAssertEqual(seen.get.count, 2)
        kit.store.removeObserver(handle: handle)
        _ = try await kit.updateLead(lead.id, LeadPatch(company: "Acme"))
        XCTAssertEqual(seen.get.count, 2, "a removed observer is not called")

        // The AsyncStream: told of the next write.
        let stream = kit.changes()
        let next = Task { () -> ChangedRecords? in
            for await c in stream { return c }
            return nil
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        let other = try await kit.createLead(LeadDraft(name: "이영희"))
        let got = await next.value
        XCTAssertEqual(got?.leads, [other.id])
    }

    func testTheObservableLeadListFollowsWrites() async throws {
        let kit = try await kit()
        try await Self.observableLeadList(kit)
    }

    /// On the main actor, like the views that read the model.
    @MainActor
    static func observableLeadList(_ kit: FieldSalesKit) async throws {
        _ = try await kit.createLead(LeadDraft(name: "김민지"))
        let model = LeadListModel(kit: kit)
        try await waitUntil { model.leads.count == 1 }
        XCTAssertEqual(model.leads.map(\.displayName), ["김민지"])

        // Observation tells SwiftUI (here: a test) that `leads` changed after a write elsewhere.
        let changed = Locked(false)
        withObservationTracking { _ = model.leads } onChange: { changed.with { $0 = true } }
        _ = try await kit.createLead(LeadDraft(name: "이영희"))
        try await waitUntil { model.leads.count == 2 }
        XCTAssertTrue(changed.get)
        XCTAssertEqual(Set(model.leads.map(\.displayName)), ["김민지", "이영희"])
        XCTAssertNil(model.error)

        model.query = LeadQuery(stages: [.won], sort: .updated)
        try await waitUntil { model.leads.isEmpty }
    }
}
