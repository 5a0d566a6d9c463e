// The Today screen: follow-ups and open tasks overdue, due today and in the coming week, with
// "today" the rep's day in their own time zone.

import FieldSalesKit
import Foundation
import Observation

public struct TodayItem: Identifiable, Equatable, Sendable {
    /// The task's id, or the lead's for a lead's follow-up date.
    public let id: String
    public let leadId: String
    public let activityId: String?
    public let title: String
    /// The lead's name under a task's subject.
    public let subtitle: String?
    /// A time for today, a date and time otherwise.
    public let dueText: String
    public let isTask: Bool
    public let accessibilityLabel: String
}

public struct TodaySection: Identifiable, Equatable, Sendable {
    public enum Kind: Sendable { case overdue, today, upcoming }
    public var id: Kind { kind }
    public let kind: Kind
    public let title: String
    public let items: [TodayItem]
}

@MainActor
@Observable
public final class TodayViewModel {
    /// Non-empty sections, overdue first.
    public private(set) var sections: [TodaySection] = []
    public private(set) var errorText: String?
    public private(set) var loadCount = 0
    /// "Monday, November 2" in the rep's zone and language.
    public private(set) var dateTitle = ""

    public let context: UIContext
    let core: CoreCalls
    @ObservationIgnored private var subscription: ChangeSubscription?

    public init(core: CoreCalls, context: UIContext) {
        self.core = core
        self.context = context
        subscription = ChangeSubscription(kit: core.kit) { [weak self] changed in
            guard let self, !changed.leads.isEmpty || !changed.activities.isEmpty else { return }
            Task { await self.load() }
        }
    }

    private var s: Strings { context.strings }

    public func load() async {
        let now = context.nowMs
        do {
            let due = try await core.followUps(nowMs: now, timeZone: context.timeZoneName)
            sections = [
                section(.overdue, s(.todayOverdue), due.overdue, sameDay: false),
                section(.today, s(.todayToday), due.today, sameDay: true),
                section(.upcoming, s(.todayUpcoming), due.upcoming, sameDay: false),
            ].filter { !$0.items.isEmpty }
            dateTitle = Date(ms: now).formatted(Date.FormatStyle(locale: context.locale, timeZone: context.timeZone)
                .weekday(.wide).month(.wide).day())
            errorText = nil
        } catch {
            errorText = context.plainError(error)
        }
        loadCount += 1
    }

    private func section(_ kind: TodaySection.Kind, _ title: String, _ list: [FollowUp], sameDay: Bool) -> TodaySection {
        let f = context.formats
        let items = list.map { fu in
            let isTask = fu.activityId != nil
            let title = isTask ? (fu.subject ?? fu.leadName) : s(.followUpWith, fu.leadName)
            let due = sameDay ? f.time(fu.dueAt) : f.dateTime(fu.dueAt)
            let spoken = [title, isTask ? fu.leadName : nil, kind == .overdue ? s(.a11yOverdueSince, due) : s(.dueAt, due)]
            return TodayItem(id: fu.activityId ?? fu.leadId, leadId: fu.leadId, activityId: fu.activityId, title: title,
                             subtitle: isTask ? fu.leadName : nil, dueText: due, isTask: isTask,
                             accessibilityLabel: spoken.compactMap { $0 }.joined(separator: ", "))
        }
        return TodaySection(kind: kind, title: title, items: items)
    }

    /// Nothing due: the screen says so.
    public var emptyText: String? {
        sections.isEmpty && errorText == nil && loadCount > 0 ? s(.todayNothing) : nil
    }

    /// Marks a task done; it leaves the list.
    public func complete(_ item: TodayItem) async {
        guard let id = item.activityId else { return }
        do {
            _ = try await core.completeActivity(id)
            await load()
        } catch {
            errorText = context.plainError(error)
        }
    }

    public func accessibilityLabel(completing item: TodayItem) -> String {
        s(.a11yCompleteTask, item.title)
    }
}
