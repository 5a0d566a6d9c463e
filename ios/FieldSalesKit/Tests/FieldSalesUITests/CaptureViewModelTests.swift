import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class CaptureViewModelTests: ViewModelTestCase {
    let vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:김민지\r\nORG:Acme Korea\r\nTITLE:구매 담당\r\nEMAIL;TYPE=work:MinJi@Acme.co.kr\r\n"
        + "TEL;TYPE=cell:010-1234-5678\r\nBDAY:1990-01-01\r\nEND:VCARD\r\n"

    @MainActor
    func testAnInvalidEmailShowsOnTheEmailFieldAndNothingIsSaved() async throws {
        let core = try await openCore()
        let form = CaptureViewModel(core: core, context: .english())
        form.name = "김민지"
        form.company = "Acme Korea"
        form.email = "minji@acme"
        let saved = await form.save()
        XCTAssertFalse(saved)
        XCTAssertEqual(form.fieldErrors, [.email: "'minji@acme' is not a valid e-mail address"])
        XCTAssertNil(form.formError)
        XCTAssertEqual(form.accessibilityLabel(.field(.email)), "E-mail, error: 'minji@acme' is not a valid e-mail address")
        XCTAssertEqual(form.accessibilityLabel(.field(.name)), "Name")
        let stored = try await core.kit.listLeads(LeadQuery(sort: .updated)).items
        XCTAssertEqual(stored, [], "nothing was saved")
        XCTAssertEqual(form.name, "김민지", "what the rep typed stays")

        // Fixing the field clears its error, and the lead saves.
        form.email = "minji@acme.co.kr"
        XCTAssertEqual(form.fieldErrors, [:])
        let again = await form.save()
        XCTAssertTrue(again)
        let lead = try await core.kit.lead(try XCTUnwrap(form.savedLeadId))
        XCTAssertEqual(lead.emails, ["minji@acme.co.kr"])
        XCTAssertEqual(form.name, "", "the form is ready for the next visitor")
    }

    @MainActor
    func testAPhoneAndAnEmptyFormErrorLandOnTheirFields() async throws {
        let core = try await openCore()
        let form = CaptureViewModel(core: core, context: .english())
        XCTAssertFalse(form.canSave)
        form.notes = "only a note"
        let empty = await form.save()
        XCTAssertFalse(empty)
        XCTAssertEqual(form.fieldErrors, [.name: "a lead needs at least a name, a company, an e-mail address or a phone number"])
        form.name = "Kim"
        form.phone = "12"
        let bad = await form.save()
        XCTAssertFalse(bad)
        XCTAssertEqual(form.fieldErrors, [.phone: "'12' is not a valid phone number (default region KR)"])
    }

    @MainActor
    func testAPastedVCardFillsTheFormAndSavesAsABadgeScan() async throws {
        let core = try await openCore()
        let form = CaptureViewModel(core: core, context: .korean())
        form.notes = "부스 B12"
        let read = await form.fill(fromText: vcard)
        XCTAssertTrue(read)
        XCTAssertEqual(form.name, "김민지")
        XCTAssertEqual(form.company, "Acme Korea")
        XCTAssertEqual(form.title, "구매 담당")
        XCTAssertEqual(form.email, "minji@acme.co.kr")
        XCTAssertEqual(form.phone, "+821012345678")
        XCTAssertEqual(form.toCheck, [], "a vCard's fields are certain")
        XCTAssertFalse(form.unplaced.isEmpty, "the birthday has no field: \(form.unplaced)")
        XCTAssertEqual(form.notes, "부스 B12", "what the rep typed stays")
        let saved = await form.save()
        XCTAssertTrue(saved)
        let lead = try await core.kit.lead(try XCTUnwrap(form.savedLeadId))
        XCTAssertEqual(lead.source.channel, .badgeScan)
        XCTAssertEqual(lead.name, "김민지")
        XCTAssertEqual(lead.notes, "부스 B12")
    }

    @MainActor
    func testCardTextFillsOnlyEmptyFieldsAndMarksGuessesToCheck() async throws {
        let core = try await openCore()
        let form = CaptureViewModel(core: core, context: .english())
        form.name = "Jisoo Park"
        // No company line: the core guesses the company from the e-mail's domain, unsure (0.3).
        let read = await form.fill(fromText: "Park Jisoo\njisoo.park@hanbit.kr\nMobile +82 10 9876 5432")
        XCTAssertTrue(read)
        XCTAssertEqual(form.name, "Jisoo Park", "typed by the rep: kept")
        XCTAssertEqual(form.email, "jisoo.park@hanbit.kr")
        XCTAssertEqual(form.phone, "+821098765432")
        XCTAssertFalse(form.company.isEmpty)
        XCTAssertEqual(form.toCheck, [.company], "only the guess is marked: \(form.company)")
        XCTAssertEqual(form.accessibilityLabel(.field(.company)), "Company, please check")
        form.company = "Hanbit Logistics"
        XCTAssertEqual(form.toCheck, [], "the rep looked at it")

        let nothing = await form.fill(fromText: "   ")
        XCTAssertFalse(nothing)
        XCTAssertEqual(form.formError, "No contact details found in that text.")
    }

    @MainActor
    func testTheEventIsRememberedFromTheLastCaptureAndPotentialIsOneTap() async throws {
        let core = try await openCore()
        let first = CaptureViewModel(core: core, context: .english())
        await first.prepare()
        XCTAssertEqual(first.event, "", "no capture yet")
        XCTAssertEqual(first.fieldOrder.prefix(4), [.name, .company, .phone, .email], "booth-first")
        first.name = "Kim"
        first.event = "Seoul Expo 2026"
        first.tapPotential(.warm)
        XCTAssertEqual(first.potential, .warm)
        XCTAssertEqual(first.accessibilityLabel(.potential(.warm)), "Potential Warm, selected")
        first.tapPotential(.hot)
        XCTAssertEqual(first.potential, .hot, "one tap switches")
        first.tagInput = "expo, vip"
        first.addTag()
        first.tagInput = "vip"
        first.addTag()
        XCTAssertEqual(first.tags, ["expo", "vip"])
        let saved = await first.save()
        XCTAssertTrue(saved)
        XCTAssertEqual(first.event, "Seoul Expo 2026", "kept for the next visitor")
        XCTAssertNil(first.potential)
        let lead = try await core.kit.lead(try XCTUnwrap(first.savedLeadId))
        XCTAssertEqual(lead.potential, .hot)
        XCTAssertEqual(lead.tags, ["expo", "vip"])

        // The next time the screen opens (after a restart, too), the event comes from the store.
        let next = CaptureViewModel(core: core, context: .english())
        await next.prepare()
        XCTAssertEqual(next.event, "Seoul Expo 2026")
        next.tapPotential(.cold)
        next.tapPotential(.cold)
        XCTAssertNil(next.potential, "tapping the chosen one again clears it")
    }

    /// Lee captures a visitor at the booth and syncs; his manager's phone syncs from the real
    /// server, and when the manager captures the same visitor the form warns before saving.
    @MainActor
    func testADuplicateAnotherRepCapturedIsShownBeforeSavingWithOpenItInstead() async throws {
        let leeSession = try await enrolledSession("lee", code: 4, file: "lee-booth.db")
        let lee = try XCTUnwrap(leeSession.core)
        let booth = leeSession.captureModel(lee)
        booth.name = "김민지"
        booth.company = "Acme Korea"
        booth.email = "minji@acme.co.kr"
        let first = await booth.save()
        XCTAssertTrue(first)
        let leeLead = try XCTUnwrap(booth.savedLeadId)
        await leeSession.syncModel(lee).sync()

        let parkSession = try await enrolledSession("park", code: 1, file: "park.db", context: .korean())
        let park = try XCTUnwrap(parkSession.core)
        let sync = parkSession.syncModel(park)
        await sync.sync()
        XCTAssertNil(sync.errorText)
        let form = parkSession.captureModel(park)
        form.name = "김민지"
        form.company = "ACME korea"
        form.phone = "010-9999-0000"
        let saved = await form.save()
        XCTAssertFalse(saved, "not saved before the manager chooses")
        let warning = try XCTUnwrap(form.duplicate)
        XCTAssertEqual(warning.leadId, leeLead)
        XCTAssertEqual(warning.text, "이미 있는 리드입니다: 김민지, Acme Korea — \(try uiUser("lee")) 님이 등록")
        XCTAssertEqual(form.accessibilityLabel(.openDuplicate), "기존 리드 열기")
        let before = try await park.kit.listLeads().items
        XCTAssertEqual(before.map(\.id), [leeLead], "nothing was saved")

        form.openDuplicate()
        XCTAssertEqual(form.openLeadId, leeLead, "the screen opens Lee's lead")
        XCTAssertNil(form.duplicate)
        XCTAssertEqual(form.name, "김민지", "the form keeps what was typed")
        form.didOpenLead()

        // The same e-mail alone is enough; "save as new" saves it anyway.
        let other = parkSession.captureModel(park)
        other.name = "Minji Kim"
        other.email = "MINJI@acme.co.kr"
        let again = await other.save()
        XCTAssertFalse(again)
        XCTAssertEqual(other.duplicate?.leadId, leeLead)
        let anyway = await other.saveAnyway()
        XCTAssertTrue(anyway)
        let after = try await park.kit.listLeads().items
        XCTAssertEqual(after.count, 2)
    }
}
