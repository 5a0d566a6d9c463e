// The Lead detail screen: the lead's fields; its stage as a stepper that respects the
// workspace's stage rules (the rule's message shows at the field it asks for); conflicts with
// both values and a one-tap choice; the activity timeline with "log a call / meeting / visit /
// task / note"; the follow-up date.

import FieldSalesKit
import Foundation
import Observation

/// One step of the stage stepper.
public struct StageStep: Identifiable, Equatable, Sendable {
    public var id: Stage { stage }
    public let stage: Stage
    public let name: String
    public let isCurrent: Bool
    /// A funnel stage the lead has passed.
    public let isPassed: Bool
    /// Fields the workspace requires to enter this stage, named for the rep.
    public let requires: [String]
    public let accessibilityLabel: String
}

/// Two or more values entered at once on different devices for one field; the rep picks one.
public struct ConflictChoice: Identifiable, Equatable, Sendable {
    public var id: String { field }
    /// The core's name of the field ("company", "deal", "source.event").
    public let field: String
    public let fieldLabel: String
    /// Each value as the core has it (`raw`) and as the rep reads it (`shown`); the first is
    /// the one every device shows until someone chooses.
    public let values: [Value]
    public let accessibilityLabel: String

    public struct Value: Equatable, Sendable {
        /// Its place in the conflict's list: what `resolve` keeps.
        public let choice: Int
        public let raw: String
        public let shown: String
        /// "Keep “Acme Korea”".
        public let accessibilityLabel: String
    }
}

/// One activity on the timeline.
public struct TimelineItem: Identifiable, Equatable, Sendable {
    public let id: String
    public let kind: ActivityKind
    public let kindText: String
    public let subject: String
    public let notes: String
    /// When it happened, or when it is due for an open task.
    public let whenText: String
    public let isOpenTask: Bool
    public let accessibilityLabel: String
}

/// A field of the lead as the detail shows it.
public struct DetailField: Identifiable, Equatable, Sendable {
    public var id: String { label }
    public let label: String
    public let value: String
}

@MainActor
@Observable
public final class LeadDetailViewModel {
    public let leadId: String
    public private(set) var lead: Lead?
    public private(set) var title = ""
    public private(set) var fields: [DetailField] = []
    public private(set) var stageSteps: [StageStep] = []
    public private(set) var conflicts: [ConflictChoice] = []
    public private(set) var timeline: [TimelineItem] = []
    public private(set) var followUpText: String?
    /// A validation message at the field it concerns (a stage rule's at the deal value).
    public private(set) var fieldErrors: [LeadFormField: String] = [:]
    public private(set) var errorText: String?
    public private(set) var isBusy = false

    /// The deal value as the rep types it, in `dealCurrency`.
    public var dealValueText = "" { didSet { fieldErrors[.dealValue] = nil } }
    public var dealCurrency: String
    /// Asked for when the lead moves to lost.
    public var lostReasonText = "" { didSet { fieldErrors[.lostReason] = nil } }

    public let context: UIContext
    let core: CoreCalls
    @ObservationIgnored private var settings: SalesSettings?
    @ObservationIgnored private var subscription: ChangeSubscription?

    public init(core: CoreCalls, context: UIContext, leadId: String) {
        self.core = core
        self.context = context
        self.leadId = leadId
        dealCurrency = Self.currency(ofRegion: core.kit.store.region())
        subscription = ChangeSubscription(kit: core.kit) { [weak self] changed in
            guard let self, changed.leads.contains(self.leadId) || !changed.activities.isEmpty || !changed.sales.isEmpty else { return }
            Task { await self.load() }
        }
    }

    private var s: Strings { context.strings }

    /// The currency of a region ("KR" → "KRW"), for a deal value typed without one.
    nonisolated static func currency(ofRegion region: String) -> String {
        Locale(identifier: "und_\(region)").currency?.identifier ?? "USD"
    }

    // MARK: loading

    public func load() async {
        do {
            if settings == nil { settings = try await core.salesSettings() }
            let detail = try await core.leadDetail(leadId)
            show(detail)
            errorText = nil
        } catch {
            errorText = context.plainError(error)
        }
    }

    private func show(_ detail: LeadDetail) {
        let l = detail.lead
        let f = context.formats
        let names = StageNames(settings: settings, strings: s)
        lead = l
        title = [l.name, l.company, l.emails.first, l.phones.first].compactMap { $0 }.first { !$0.isEmpty } ?? s(.leadNoName)
        var rows: [DetailField] = []
        func add(_ field: LeadFormField, _ value: String?) {
            if let value, !value.isEmpty { rows.append(DetailField(label: s.fieldLabel(field), value: value)) }
        }
        add(.name, l.name)
        add(.company, l.company)
        add(.title, l.title)
        add(.phone, l.phones.joined(separator: ", "))
        add(.email, l.emails.joined(separator: ", "))
        add(.event, l.source.event)
        add(.potential, l.potential.map(s.potential))
        add(.dealValue, l.dealValue.map(f.money))
        add(.lostReason, l.lostReason)
        add(.tags, l.tags.joined(separator: ", "))
        add(.notes, l.notes)
        fields = rows
        if let m = l.dealValue, dealValueText.isEmpty {
            dealCurrency = m.currency
        }
        followUpText = l.nextFollowUp.map(f.dateTime)
        stageSteps = steps(for: l, names: names)
        conflicts = l.conflicts.map { conflictChoice($0, names: names) }
        timeline = detail.activities.map(item)
    }

    private func steps(for l: Lead, names: StageNames) -> [StageStep] {
        // The furthest funnel stage reached; the ones before it count as passed (as the core's funnel counts them).
        let funnel = Stage.allInOrder.filter { $0 != .lost }
        let reached = (l.stageHistory.map(\.stage) + [l.stage]).compactMap { funnel.firstIndex(of: $0) }.max() ?? 0
        return Stage.allInOrder.map { st in
            let isPassed = st != l.stage && (funnel.firstIndex(of: st).map { $0 <= reached } ?? false)
            let requires = (settings?.stages.first { $0.stage == st }?.required ?? []).map(s.required)
            var spoken = [names.name(st)]
            if st == l.stage { spoken.append(s(.a11yCurrentStage)) }
            if !requires.isEmpty { spoken.append(s(.stageNeeds, requires.joined(separator: ", "))) }
            return StageStep(stage: st, name: names.name(st), isCurrent: st == l.stage, isPassed: isPassed, requires: requires,
                             accessibilityLabel: spoken.joined(separator: ", "))
        }
    }

    private func conflictChoice(_ c: FieldConflict, names: StageNames) -> ConflictChoice {
        let label = s.conflictFieldLabel(c.field)
        let values = c.values.enumerated().map { choice, raw in
            let shown = shownConflictValue(field: c.field, raw: raw, names: names)
            return ConflictChoice.Value(choice: choice, raw: raw, shown: shown, accessibilityLabel: s(.a11yKeepValue, shown, label))
        }
        return ConflictChoice(field: c.field, fieldLabel: label, values: values,
                              accessibilityLabel: s(.conflictExplain, label, values.map(\.shown).joined(separator: " / ")))
    }

    private func shownConflictValue(field: String, raw: String, names: StageNames) -> String {
        switch field {
        case "stage": return Stage.fromCore(raw).map(names.name) ?? raw
        case "potential": return Potential.fromCore(raw).map(s.potential) ?? raw
        case "deal": return Self.money(fromConflictValue: raw).map(context.formats.money) ?? raw
        case "next_follow_up": return Int64(raw).map(context.formats.dateTime) ?? raw
        default: return raw.isEmpty ? "—" : raw
        }
    }

    /// A deal value as a conflict shows it: "1500000 KRW" (minor units and currency).
    nonisolated static func money(fromConflictValue raw: String) -> Money? {
        let parts = raw.split(separator: " ")
        guard parts.count == 2, let amount = Int64(parts[0]) else { return nil }
        return Money(amountMinor: amount, currency: String(parts[1]))
    }

    private func item(_ a: Activity) -> TimelineItem {
        let f = context.formats
        let openTask = a.kind == .task && !a.done
        let when: String
        if openTask, let due = a.dueAt {
            when = s(.dueAt, f.dateTime(due))
        } else {
            when = f.dateTime(a.occurredAt ?? a.dueAt ?? a.createdAt)
        }
        let kindText = s.activityKind(a.kind)
        var spoken = [kindText, a.subject, when]
        if openTask { spoken.append(s(.taskOpen)) }
        return TimelineItem(id: a.id, kind: a.kind, kindText: kindText, subject: a.subject, notes: a.notes, whenText: when,
                            isOpenTask: openTask, accessibilityLabel: spoken.filter { !$0.isEmpty }.joined(separator: ", "))
    }

    // MARK: stage

    /// Moves the lead to `stage`. A deal value or lost reason the rep has typed goes with the
    /// move; when a stage rule refuses it, the rule's message shows at the field it asks for.
    @discardableResult
    public func moveTo(_ stage: Stage) async -> Bool {
        var patch = LeadPatch(stage: stage)
        if stage == .lost {
            let reason = lostReasonText.trimmingCharacters(in: .whitespacesAndNewlines)
            if !reason.isEmpty { patch.lostReason = reason }
        }
        let typed = dealValueText.trimmingCharacters(in: .whitespaces)
        if !typed.isEmpty {
            do {
                patch.dealValue = try parseMoney(amount: typed, currency: dealCurrency)
            } catch {
                fieldErrors[.dealValue] = context.plainError(error)
                return false
            }
        }
        return await write(patch)
    }

    /// The next stage of the funnel (not past won; lost is chosen, never stepped into).
    public var nextStage: Stage? {
        guard let l = lead, let i = Stage.allInOrder.firstIndex(of: l.stage), l.stage != .won, l.stage != .lost else { return nil }
        return Stage.allInOrder[i + 1]
    }

    @discardableResult
    public func advance() async -> Bool {
        guard let next = nextStage else { return false }
        return await moveTo(next)
    }

    /// Saves the typed deal value alone.
    @discardableResult
    public func saveDealValue() async -> Bool {
        let typed = dealValueText.trimmingCharacters(in: .whitespaces)
        if typed.isEmpty { return await write(LeadPatch(clear: [.dealValue])) }
        do {
            return await write(LeadPatch(dealValue: try parseMoney(amount: typed, currency: dealCurrency)))
        } catch {
            fieldErrors[.dealValue] = context.plainError(error)
            return false
        }
    }

    // MARK: conflicts

    /// The rep's one tap: value number `choice` of the conflict on `field` becomes the field's
    /// only value on every device (the core writes it again).
    @discardableResult
    public func resolve(_ field: String, choice: Int) async -> Bool {
        await perform { _ = try await self.core.resolveConflict(leadId: self.leadId, field: field, choice: choice) }
    }

    // MARK: activities and follow-up

    /// Logs a call, meeting, visit or note as done now, or a task due at `dueAt`.
    @discardableResult
    public func log(_ kind: ActivityKind, subject: String, notes: String = "", dueAt: Int64? = nil) async -> Bool {
        let subject = subject.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = subject.isEmpty ? s.activityKind(kind) : subject
        let now = context.nowMs
        let draft = kind == .task
            ? ActivityDraft(leadId: leadId, kind: kind, subject: text, notes: notes.isEmpty ? nil : notes, dueAt: dueAt ?? now, done: false)
            : ActivityDraft(leadId: leadId, kind: kind, subject: text, notes: notes.isEmpty ? nil : notes, occurredAt: now, done: true)
        return await perform { _ = try await self.core.addActivity(draft) }
    }

    /// The kinds the "log" menu offers, in its order.
    public var logKinds: [(ActivityKind, String)] {
        [ActivityKind.call, .meeting, .visit, .task, .note].map { ($0, s(.logKind, s.activityKind($0))) }
    }

    public func complete(_ activityId: String) async {
        _ = await perform { _ = try await self.core.completeActivity(activityId) }
    }

    @discardableResult
    public func setFollowUp(_ ms: Int64?) async -> Bool {
        await write(ms.map { LeadPatch(nextFollowUp: $0) } ?? LeadPatch(clear: [.nextFollowUp]))
    }

    // MARK: writing

    private func write(_ patch: LeadPatch) async -> Bool {
        await perform {
            _ = try await self.core.updateLead(self.leadId, patch)
            if patch.dealValue != nil { self.dealValueText = "" }
            if patch.lostReason != nil { self.lostReasonText = "" }
        }
    }

    private func perform(_ body: @escaping @MainActor () async throws -> Void) async -> Bool {
        isBusy = true
        defer { isBusy = false }
        fieldErrors = [:]
        errorText = nil
        do {
            try await body()
            await load()
            return true
        } catch let e as FieldsalesError {
            if let field = CoreCalls.field(of: e) { fieldErrors[field] = context.plainError(e) } else { errorText = context.plainError(e) }
            return false
        } catch {
            errorText = context.plainError(error)
            return false
        }
    }

    // MARK: labels

    public func accessibilityLabel(_ control: Control) -> String {
        switch control {
        case .stage(let st): return stageSteps.first { $0.stage == st }?.accessibilityLabel ?? s.stage(st)
        case .advance: return nextStage.map { s(.a11yAdvanceTo, StageNames(settings: settings, strings: s).name($0)) } ?? s(.a11yAdvanceNone)
        case .dealValue: return [s.fieldLabel(.dealValue), fieldErrors[.dealValue].map { s(.a11yError, $0) }].compactMap { $0 }.joined(separator: ", ")
        case .lostReason: return s.fieldLabel(.lostReason)
        case .log(let k): return s(.logKind, s.activityKind(k))
        case .complete(let id): return s(.a11yCompleteTask, timeline.first { $0.id == id }?.subject ?? "")
        case .followUp: return followUpText.map { s(.a11yFollowUpSet, $0) } ?? s(.a11yFollowUpNone)
        case .clearFollowUp: return s(.a11yClearFollowUp)
        case .keep(let field, let choice):
            let value = conflicts.first { $0.field == field }?.values.first { $0.choice == choice }?.shown ?? ""
            return s(.a11yKeepValue, value, s.conflictFieldLabel(field))
        }
    }

    public enum Control: Hashable, Sendable {
        case stage(Stage), advance, dealValue, lostReason, log(ActivityKind), complete(String), followUp, clearFollowUp
        case keep(field: String, choice: Int)
    }
}
