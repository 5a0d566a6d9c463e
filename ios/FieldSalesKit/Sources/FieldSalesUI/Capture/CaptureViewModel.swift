// The Capture screen, built for a booth: name, company, phone and e-mail first; the event of the
// last capture already filled in; potential in one tap; tags; notes. Pasted or scanned text
// fills the form through the core's parsers; the core's validation errors land on their field;
// a likely duplicate is shown before saving, with the choice to open it instead.

import FieldSalesKit
import Foundation
import Observation

/// A lead the store already has that looks like the one being captured.
public struct DuplicateWarning: Equatable, Sendable {
    public let leadId: String
    /// "김민지, Acme Korea — captured by lee".
    public let text: String
}

@MainActor
@Observable
public final class CaptureViewModel {
    public var name = "" { didSet { edited(.name) } }
    public var company = "" { didSet { edited(.company) } }
    public var phone = "" { didSet { edited(.phone) } }
    public var email = "" { didSet { edited(.email) } }
    public var title = "" { didSet { edited(.title) } }
    /// Starts as the event of the rep's last capture (a booth captures many at one event).
    public var event = "" { didSet { edited(.event) } }
    public private(set) var potential: Potential?
    public private(set) var tags: [String] = []
    public var tagInput = ""
    public var notes = "" { didSet { edited(.notes) } }

    /// The core's validation message for each field it concerns; the form shows each under its
    /// field. `formError` holds what concerns no single field.
    public private(set) var fieldErrors: [LeadFormField: String] = [:]
    public private(set) var formError: String?
    /// Fields a scan guessed with low confidence: the rep should look at them.
    public private(set) var toCheck: Set<LeadFormField> = []
    /// Text a scan read but could not place (a birthday, an unrecognised line).
    public private(set) var unplaced: [String] = []
    /// Set when saving found a likely duplicate; the rep opens it or saves anyway.
    public private(set) var duplicate: DuplicateWarning?
    /// The lead the rep chose to open instead of saving a new one (the screen navigates there).
    public private(set) var openLeadId: String?
    /// The last lead saved from this form.
    public private(set) var savedLeadId: String?
    public private(set) var isSaving = false
    private var channel: CaptureChannel?

    public let context: UIContext
    let core: CoreCalls

    public init(core: CoreCalls, context: UIContext) {
        self.core = core
        self.context = context
    }

    private var s: Strings { context.strings }

    /// Booth-first: what the rep types first, first.
    public let fieldOrder: [LeadFormField] = [.name, .company, .phone, .email, .event, .potential, .tags, .notes, .title]

    /// Fills in the event of the last capture. Call when the screen opens.
    public func prepare() async {
        guard event.isEmpty else { return }
        if let last = try? await core.lastCaptureEvent() { event = last }
    }

    // MARK: editing

    /// One tap sets the potential; tapping the chosen one again clears it.
    public func tapPotential(_ p: Potential) {
        potential = potential == p ? nil : p
        edited(.potential)
    }

    /// Adds what is typed in the tag field (comma-separated tags too).
    public func addTag() {
        let new = tagInput.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for t in new where !tags.contains(t) { tags.append(t) }
        tagInput = ""
        edited(.tags)
    }

    public func removeTag(_ t: String) {
        tags.removeAll { $0 == t }
        edited(.tags)
    }

    /// A change to a field clears its error, its "check this" mark and a duplicate warning
    /// that was about the old values.
    private func edited(_ field: LeadFormField) {
        fieldErrors[field] = nil
        toCheck.remove(field)
        formError = nil
        duplicate = nil
    }

    // MARK: paste and scan

    /// Pasted text or a scanned code: a vCard, MECARD or link from a badge, or a business card's
    /// OCR text. Values go into empty fields; what the rep typed stays. Returns whether anything
    /// could be read.
    @discardableResult
    public func fill(fromText text: String) async -> Bool {
        do {
            let scan = try await core.parseCapture(text)
            let d = scan.draft
            var filled = Set<LeadFormField>()
            func put(_ value: String?, _ field: LeadFormField, _ keyPath: ReferenceWritableKeyPath<CaptureViewModel, String>) {
                guard let value, !value.isEmpty, self[keyPath: keyPath].trimmingCharacters(in: .whitespaces).isEmpty else { return }
                self[keyPath: keyPath] = value
                filled.insert(field)
            }
            put(d.name, .name, \.name)
            put(d.company, .company, \.company)
            put(d.title, .title, \.title)
            put(d.emails.first, .email, \.email)
            put(d.phones.first, .phone, \.phone)
            put(d.event, .event, \.event)
            if let n = d.notes, !n.isEmpty { notes = notes.isEmpty ? n : notes + "\n" + n }
            for t in d.tags where !tags.contains(t) { tags.append(t) }
            if filled.isEmpty && d.notes == nil { formError = s(.captureNothingRead); return false }
            channel = d.channel
            let unsure = scan.confidence.filter { $0.confidence < 0.8 }.compactMap { Self.field(ofConfidence: $0.field) }
            toCheck = Set(unsure).intersection(filled)
            unplaced = scan.unparsed
            formError = nil
            return true
        } catch {
            formError = context.plainError(error)
            return false
        }
    }

    /// The form field a parser's confidence entry names ("emails[0]" → e-mail).
    nonisolated static func field(ofConfidence name: String) -> LeadFormField? {
        switch name.split(separator: "[").first.map(String.init) ?? name {
        case "name": return .name
        case "company": return .company
        case "title": return .title
        case "emails": return .email
        case "phones": return .phone
        default: return nil
        }
    }

    // MARK: saving

    public var canSave: Bool {
        !isSaving && [name, company, phone, email].contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// The draft the form holds: blank fields are left out.
    public var draft: LeadDraft {
        func v(_ s: String) -> String? {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            return t.isEmpty ? nil : t
        }
        return LeadDraft(name: v(name), company: v(company), title: v(title), emails: v(email).map { [$0] } ?? [],
                         phones: v(phone).map { [$0] } ?? [], event: v(event), channel: channel ?? .manual, potential: potential,
                         tags: tags, notes: v(notes))
    }

    /// Saves the lead, unless the store holds a likely duplicate: then `duplicate` says which,
    /// and nothing is saved until the rep chooses `saveAnyway()` or `openDuplicate()`.
    /// Returns whether a lead was saved.
    @discardableResult
    public func save() async -> Bool {
        await save(checkDuplicates: true)
    }

    @discardableResult
    public func saveAnyway() async -> Bool {
        await save(checkDuplicates: false)
    }

    /// The rep opens the existing lead instead; the form keeps what was typed.
    public func openDuplicate() {
        openLeadId = duplicate?.leadId
        duplicate = nil
    }

    /// The screen has navigated to `openLeadId`.
    public func didOpenLead() {
        openLeadId = nil
    }

    private func save(checkDuplicates: Bool) async -> Bool {
        guard !isSaving else { return false }
        isSaving = true
        defer { isSaving = false }
        fieldErrors = [:]
        formError = nil
        let draft = self.draft
        do {
            if checkDuplicates, let match = try await core.likelyDuplicates(of: draft).first {
                let who = [match.name, match.company].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
                duplicate = DuplicateWarning(leadId: match.id, text: s(.captureDuplicate, who, match.createdBy))
                return false
            }
            let lead = try await core.createLead(draft)
            savedLeadId = lead.id
            clear(keepingEvent: true)
            return true
        } catch let e as FieldsalesError {
            if let field = CoreCalls.field(of: e) {
                fieldErrors[field] = context.plainError(e)
            } else {
                formError = context.plainError(e)
            }
            return false
        } catch {
            formError = context.plainError(error)
            return false
        }
    }

    /// Empties the form for the next visitor; the event stays (same booth, same show).
    public func clear(keepingEvent: Bool = true) {
        let keep = event
        name = ""; company = ""; phone = ""; email = ""; title = ""; notes = ""; tagInput = ""
        tags = []; potential = nil; channel = nil
        event = keepingEvent ? keep : ""
        fieldErrors = [:]; toCheck = []; unplaced = []; formError = nil; duplicate = nil
    }

    // MARK: labels

    public func label(_ field: LeadFormField) -> String {
        s.fieldLabel(field)
    }

    public func accessibilityLabel(_ control: Control) -> String {
        switch control {
        case .field(let f):
            var parts = [s.fieldLabel(f)]
            if let e = fieldErrors[f] { parts.append(s(.a11yError, e)) }
            if toCheck.contains(f) { parts.append(s(.captureCheckField)) }
            return parts.joined(separator: ", ")
        case .potential(let p): return s(potential == p ? .a11yPotentialOn : .a11yPotentialOff, s.potential(p))
        case .addTag: return s(.a11yAddTag)
        case .removeTag(let t): return s(.a11yRemoveTag, t)
        case .paste: return s(.a11yPasteContact)
        case .scan: return s(.a11yScanCode)
        case .save: return s(.a11ySaveLead)
        case .saveAnyway: return s(.captureSaveAnyway)
        case .openDuplicate: return s(.captureOpenExisting)
        }
    }

    public enum Control: Hashable, Sendable {
        case field(LeadFormField), potential(Potential), addTag, removeTag(String), paste, scan, save, saveAnyway, openDuplicate
    }
}
