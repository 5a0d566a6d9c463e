// Every UI string in English and Korean. The view models take their text from here (so tests
// can check what a screen says, and what a screen reader reads); the language follows the
// device's locale, Korean for "ko", English otherwise. `{0}`, `{1}` are filled with values the
// view models have already formatted for the locale.

import FieldSalesKit
import Foundation

public struct Strings: Sendable {
    public enum Language: String, Sendable { case en, ko }

    public let language: Language

    public init(locale: Locale) {
        language = locale.language.languageCode?.identifier == "ko" ? .ko : .en
    }

    public func callAsFunction(_ key: Key, _ args: String...) -> String {
        let table = language == .ko ? Self.ko : Self.en
        var text = table[key] ?? Self.en[key] ?? key.rawValue
        for (i, a) in args.enumerated() {
            text = text.replacingOccurrences(of: "{\(i)}", with: a)
        }
        return text
    }

    // MARK: names of the core's values

    public func stage(_ st: Stage) -> String {
        switch st {
        case .new: return self(.stageNew)
        case .contacted: return self(.stageContacted)
        case .qualified: return self(.stageQualified)
        case .proposal: return self(.stageProposal)
        case .negotiation: return self(.stageNegotiation)
        case .won: return self(.stageWon)
        case .lost: return self(.stageLost)
        }
    }

    public func potential(_ p: Potential) -> String {
        switch p {
        case .hot: return self(.potentialHot)
        case .warm: return self(.potentialWarm)
        case .cold: return self(.potentialCold)
        }
    }

    public func activityKind(_ k: ActivityKind) -> String {
        switch k {
        case .call: return self(.activityCall)
        case .meeting: return self(.activityMeeting)
        case .visit: return self(.activityVisit)
        case .email: return self(.activityEmail)
        case .note: return self(.activityNote)
        case .task: return self(.activityTask)
        }
    }

    public func fieldLabel(_ f: LeadFormField) -> String {
        switch f {
        case .name: return self(.fieldName)
        case .company: return self(.fieldCompany)
        case .title: return self(.fieldTitle)
        case .phone: return self(.fieldPhone)
        case .email: return self(.fieldEmail)
        case .event: return self(.fieldEvent)
        case .potential: return self(.fieldPotential)
        case .tags: return self(.fieldTags)
        case .notes: return self(.fieldNotes)
        case .dealValue: return self(.fieldDealValue)
        case .lostReason: return self(.fieldLostReason)
        case .followUp: return self(.fieldFollowUp)
        }
    }

    public func required(_ r: RequiredField) -> String {
        switch r {
        case .dealValue: return fieldLabel(.dealValue)
        case .email: return fieldLabel(.email)
        case .phone: return fieldLabel(.phone)
        case .company: return fieldLabel(.company)
        case .title: return fieldLabel(.title)
        case .nextFollowUp: return fieldLabel(.followUp)
        case .lostReason: return fieldLabel(.lostReason)
        case .potential: return fieldLabel(.potential)
        }
    }

    /// A conflict's field ("company", "deal", "source.event", "custom.booth") for the rep.
    public func conflictFieldLabel(_ field: String) -> String {
        switch field {
        case "name": return fieldLabel(.name)
        case "company": return fieldLabel(.company)
        case "title": return fieldLabel(.title)
        case "stage": return self(.fieldStage)
        case "lost_reason": return fieldLabel(.lostReason)
        case "potential": return fieldLabel(.potential)
        case "deal": return fieldLabel(.dealValue)
        case "owner": return self(.fieldOwner)
        case "next_follow_up": return fieldLabel(.followUp)
        case "deleted": return self(.fieldDeleted)
        case "source.event": return fieldLabel(.event)
        case "source.channel": return self(.fieldChannel)
        default: return field.hasPrefix("custom.") ? String(field.dropFirst("custom.".count)) : field
        }
    }

    public func metric(_ m: TargetMetric) -> String {
        switch m {
        case .leadsCaptured: return self(.metricLeadsCaptured)
        case .activitiesDone: return self(.metricActivitiesDone)
        case .dealsWon: return self(.metricDealsWon)
        case .wonValue: return self(.metricWonValue)
        }
    }

    public func recordKind(_ k: RecordKind) -> String {
        switch k {
        case .lead: return self(.recordLead)
        case .activity: return self(.recordActivity)
        case .settings: return self(.recordSettings)
        case .target: return self(.recordTarget)
        case .compPlan: return self(.recordPlan)
        }
    }

    public enum Key: String, CaseIterable, Sendable {
        // screens and tabs
        case leadsTitle, captureTitle, detailTitle, todayTitle, syncTitle, teamTitle, enrollTitle
        // common
        case cancel, save, leadNoName, dueAt, daysValue, followUpWith, taskOpen, markConflict, markUnsynced
        // stages, potentials, activities, fields
        case stageNew, stageContacted, stageQualified, stageProposal, stageNegotiation, stageWon, stageLost
        case potentialHot, potentialWarm, potentialCold
        case activityCall, activityMeeting, activityVisit, activityEmail, activityNote, activityTask
        case fieldName, fieldCompany, fieldTitle, fieldPhone, fieldEmail, fieldEvent, fieldPotential, fieldTags, fieldNotes
        case fieldDealValue, fieldLostReason, fieldFollowUp, fieldStage, fieldOwner, fieldDeleted, fieldChannel
        case metricLeadsCaptured, metricActivitiesDone, metricDealsWon, metricWonValue
        case recordLead, recordActivity, recordSettings, recordTarget, recordPlan
        // leads
        case leadsSearchPlaceholder, leadsEmpty, leadsNoMatch, leadsNoneFiltered, leadsLoadingMore, leadsFilters
        case sortUpdated, sortCreated, sortName, sortValue
        // capture
        case capturePaste, captureScan, captureAddTag, captureCheckField, captureNothingRead, captureDuplicate
        case captureOpenExisting, captureSaveAnyway, captureSaved
        // detail
        case stageNeeds, conflictTitle, conflictExplain, logKind, timelineTitle, followUpSet
        case followUpClear, moveToStage
        // today
        case todayOverdue, todayToday, todayUpcoming, todayNothing
        // sync
        case syncNow, syncNever, syncLastSynced, syncAllSent, syncWaitingOne, syncWaitingMany, syncStarting, syncSending
        case syncReceiving, syncSummary, syncConflicts, syncRejectedOne, syncRejected, syncCancelled, syncQuarantineTitle
        case signOut, signOutUnsyncedOne, signOutUnsyncedMany, signOutAnyway, signOutSyncFirst
        // team
        case periodWeek, periodMonth, periodQuarter
        case teamWinRate, teamWonValue, teamDealsWon, teamCaptured, teamCycle, teamFunnel, teamPipeline, teamPipelineRaw
        case teamPipelineWeighted, teamResponse, teamWithin5Minutes, teamWithin1Hour, teamWithin24Hours, teamReps
        case teamTargets, teamCommission, teamTargetTeam, teamOfTarget, teamPace, changePoints
        // enroll
        case enrollServer, enrollCode, enrollPaste, enrollDevice, enrollButton, enrollDefaultDevice, enrollBadServer
        case enrollBadCode, enrollNoNetwork
        // errors
        case errorOffline, errorRevoked, errorNotEnrolled, errorCodeExpired, errorServerRefused, errorServerUnreadable
        case errorStorage, errorForbidden, errorUnexpected
        // accessibility
        case a11yError, a11ySearchLeads, a11ySortLeads, a11yFilterOn, a11yFilterOff, a11yClearFilters, a11yCaptureLead
        case a11yPotentialOn, a11yPotentialOff, a11yAddTag, a11yRemoveTag, a11yPasteContact, a11yScanCode, a11ySaveLead
        case a11yCurrentStage, a11yAdvanceTo, a11yAdvanceNone, a11yKeepValue, a11yCompleteTask, a11yFollowUpSet
        case a11yFollowUpNone, a11yClearFollowUp, a11yOverdueSince, a11ySyncNow, a11ySyncing, a11yCancelSync
        case a11ySyncProgress, a11ySignOut, a11yQuarantined, a11yPeriodOn, a11yPeriodOff, a11yFunnelChart
        case a11yAttainmentChart, a11yFunnelStep, a11yPipelineStage, a11yRepRow, a11yCommission, a11yChangeUp
        case a11yChangeDown, a11yChangeFlat
    }

    static let en: [Key: String] = [
        .leadsTitle: "Leads", .captureTitle: "Capture", .detailTitle: "Lead", .todayTitle: "Today", .syncTitle: "Sync",
        .teamTitle: "Team", .enrollTitle: "Connect this phone",
        .cancel: "Cancel", .save: "Save", .leadNoName: "(no name)", .dueAt: "due {0}", .daysValue: "{0} days",
        .followUpWith: "Follow up with {0}", .taskOpen: "open", .markConflict: "two values entered",
        .markUnsynced: "not synced yet",
        .stageNew: "New", .stageContacted: "Contacted", .stageQualified: "Qualified", .stageProposal: "Proposal",
        .stageNegotiation: "Negotiation", .stageWon: "Won", .stageLost: "Lost",
        .potentialHot: "Hot", .potentialWarm: "Warm", .potentialCold: "Cold",
        .activityCall: "Call", .activityMeeting: "Meeting", .activityVisit: "Visit", .activityEmail: "E-mail",
        .activityNote: "Note", .activityTask: "Task",
        .fieldName: "Name", .fieldCompany: "Company", .fieldTitle: "Job title", .fieldPhone: "Phone", .fieldEmail: "E-mail",
        .fieldEvent: "Event", .fieldPotential: "Potential", .fieldTags: "Tags", .fieldNotes: "Notes",
        .fieldDealValue: "Deal value", .fieldLostReason: "Lost reason", .fieldFollowUp: "Follow-up",
        .fieldStage: "Stage", .fieldOwner: "Owner", .fieldDeleted: "In the bin", .fieldChannel: "Captured by",
        .metricLeadsCaptured: "leads captured", .metricActivitiesDone: "activities done", .metricDealsWon: "deals won",
        .metricWonValue: "won value",
        .recordLead: "Lead", .recordActivity: "Activity", .recordSettings: "Sales process", .recordTarget: "Target",
        .recordPlan: "Pay plan",
        .leadsSearchPlaceholder: "Search name, company, e-mail, phone", .leadsEmpty: "No leads yet. Tap + to capture one.",
        .leadsNoMatch: "Nothing matches “{0}”.", .leadsNoneFiltered: "No leads match these filters.",
        .leadsLoadingMore: "Loading more…", .leadsFilters: "Filters",
        .sortUpdated: "Recently updated", .sortCreated: "Recently captured", .sortName: "Name", .sortValue: "Deal value",
        .capturePaste: "Paste", .captureScan: "Scan", .captureAddTag: "Add tag", .captureCheckField: "please check",
        .captureNothingRead: "No contact details found in that text.",
        .captureDuplicate: "Already in your leads: {0} — captured by {1}",
        .captureOpenExisting: "Open it instead", .captureSaveAnyway: "Save as new lead", .captureSaved: "Saved",
        .stageNeeds: "needs {0}", .conflictTitle: "Two values were entered",
        .conflictExplain: "{0} has two values: {1}. Choose one.",
        .logKind: "Log {0}",
        .timelineTitle: "Activity", .followUpSet: "Set follow-up", .followUpClear: "Clear follow-up",
        .moveToStage: "Move to {0}",
        .todayOverdue: "Overdue", .todayToday: "Today", .todayUpcoming: "Next 7 days",
        .todayNothing: "Nothing due. Enjoy the day.",
        .syncNow: "Sync now", .syncNever: "Not synced yet on this phone", .syncLastSynced: "Last synced {0}",
        .syncAllSent: "All changes are on the server", .syncWaitingOne: "1 change waiting to be sent",
        .syncWaitingMany: "{0} changes waiting to be sent", .syncStarting: "Connecting…",
        .syncSending: "Sending {0} of {1} changes", .syncReceiving: "Receiving updates ({0})",
        .syncSummary: "Sent {0}, received {1}.", .syncConflicts: "{0} leads now show two values: open them to choose.",
        .syncRejectedOne: "The server refused 1 change. It is kept below, nothing was lost.",
        .syncRejected: "The server refused {0} changes. They are kept below, nothing was lost.",
        .syncCancelled: "Sync cancelled. What was sent stays sent; the next sync carries on.",
        .syncQuarantineTitle: "Refused by the server",
        .signOut: "Sign out",
        .signOutUnsyncedOne: "1 change on this phone has not been synced. Signing out removes it for good.",
        .signOutUnsyncedMany: "{0} changes on this phone have not been synced. Signing out removes them for good.",
        .signOutAnyway: "Sign out anyway", .signOutSyncFirst: "Keep and sync first",
        .periodWeek: "Week", .periodMonth: "Month", .periodQuarter: "Quarter",
        .teamWinRate: "Win rate", .teamWonValue: "Won value", .teamDealsWon: "Deals won", .teamCaptured: "Leads captured",
        .teamCycle: "Sales cycle", .teamFunnel: "Funnel", .teamPipeline: "Pipeline", .teamPipelineRaw: "Value",
        .teamPipelineWeighted: "Weighted", .teamResponse: "First response", .teamWithin5Minutes: "within 5 minutes",
        .teamWithin1Hour: "within 1 hour", .teamWithin24Hours: "within 24 hours", .teamReps: "Reps",
        .teamTargets: "Targets", .teamCommission: "Commission", .teamTargetTeam: "team {0}", .teamOfTarget: "{0} of {1}",
        .teamPace: "pace {0}", .changePoints: "{0} pts",
        .enrollServer: "Server address", .enrollCode: "One-time code", .enrollPaste: "Paste code",
        .enrollDevice: "Device name", .enrollButton: "Connect", .enrollDefaultDevice: "Phone",
        .enrollBadServer: "Enter the server address, such as https://sync.example.com",
        .enrollBadCode: "The code has 16 letters and digits, such as ABCD-EFGH-JKMN-PQRS.",
        .enrollNoNetwork: "No network: check the connection and the server address, then try again.",
        .errorOffline: "You're offline or the server can't be reached. Your changes are safe on this phone; try again later.",
        .errorRevoked: "This phone was signed out by your admin. Ask for a new code to connect it again.",
        .errorNotEnrolled: "This phone is not connected to a server yet.",
        .errorCodeExpired: "This code has expired or was already used. Ask your admin for a new one.",
        .errorServerRefused: "The server refused: {0}", .errorServerUnreadable: "The server sent something this app can't read. Try again later or update the app.",
        .errorStorage: "The phone's storage failed: {0}", .errorForbidden: "Your role does not allow this.",
        .errorUnexpected: "Something went wrong: {0}",
        .a11yError: "error: {0}", .a11ySearchLeads: "Search leads", .a11ySortLeads: "Sort: {0}",
        .a11yFilterOn: "Filter {0}, on", .a11yFilterOff: "Filter {0}, off", .a11yClearFilters: "Clear filters",
        .a11yCaptureLead: "Capture a lead", .a11yPotentialOn: "Potential {0}, selected",
        .a11yPotentialOff: "Potential {0}", .a11yAddTag: "Add tag", .a11yRemoveTag: "Remove tag {0}",
        .a11yPasteContact: "Paste contact details", .a11yScanCode: "Scan a badge or business card",
        .a11ySaveLead: "Save lead", .a11yCurrentStage: "current stage", .a11yAdvanceTo: "Move to the next stage, {0}",
        .a11yAdvanceNone: "No next stage", .a11yKeepValue: "Keep {0} as {1}", .a11yCompleteTask: "Mark done: {0}",
        .a11yFollowUpSet: "Follow-up on {0}", .a11yFollowUpNone: "Set a follow-up date",
        .a11yClearFollowUp: "Clear the follow-up date", .a11yOverdueSince: "overdue since {0}",
        .a11ySyncNow: "Sync now, {0}", .a11ySyncing: "Syncing, {0}", .a11yCancelSync: "Cancel sync",
        .a11ySyncProgress: "Sync progress {0}", .a11ySignOut: "Sign out and remove this phone's data",
        .a11yQuarantined: "{0}, refused: {1}, {2}", .a11yPeriodOn: "{0}, selected", .a11yPeriodOff: "{0}",
        .a11yFunnelChart: "Funnel chart: {0}", .a11yAttainmentChart: "Target attainment chart: {0}",
        .a11yFunnelStep: "{0}: {1} leads, conversion {2}", .a11yPipelineStage: "{0}: {1} leads, value {2}, weighted {3}",
        .a11yRepRow: "{0}: {1} won, win rate {2}, won value {3}", .a11yCommission: "{0}: commission {1}, base pay {2}",
        .a11yChangeUp: "up {0} on the previous period", .a11yChangeDown: "down {0} on the previous period",
        .a11yChangeFlat: "unchanged on the previous period",
    ]

    static let ko: [Key: String] = [
        .leadsTitle: "리드", .captureTitle: "리드 등록", .detailTitle: "리드 상세", .todayTitle: "오늘", .syncTitle: "동기화",
        .teamTitle: "팀", .enrollTitle: "이 휴대폰 연결",
        .cancel: "취소", .save: "저장", .leadNoName: "(이름 없음)", .dueAt: "{0}까지", .daysValue: "{0}일",
        .followUpWith: "{0} 후속 연락", .taskOpen: "미완료", .markConflict: "두 값이 입력됨",
        .markUnsynced: "아직 동기화되지 않음",
        .stageNew: "신규", .stageContacted: "연락함", .stageQualified: "검증됨", .stageProposal: "제안",
        .stageNegotiation: "협상", .stageWon: "성사", .stageLost: "실패",
        .potentialHot: "높음", .potentialWarm: "보통", .potentialCold: "낮음",
        .activityCall: "통화", .activityMeeting: "미팅", .activityVisit: "방문", .activityEmail: "이메일",
        .activityNote: "메모", .activityTask: "할 일",
        .fieldName: "이름", .fieldCompany: "회사", .fieldTitle: "직함", .fieldPhone: "전화번호", .fieldEmail: "이메일",
        .fieldEvent: "행사", .fieldPotential: "가능성", .fieldTags: "태그", .fieldNotes: "메모",
        .fieldDealValue: "거래 금액", .fieldLostReason: "실패 사유", .fieldFollowUp: "후속 연락일",
        .fieldStage: "단계", .fieldOwner: "담당자", .fieldDeleted: "휴지통", .fieldChannel: "등록 방법",
        .metricLeadsCaptured: "등록한 리드", .metricActivitiesDone: "완료한 활동", .metricDealsWon: "성사 건수",
        .metricWonValue: "성사 금액",
        .recordLead: "리드", .recordActivity: "활동", .recordSettings: "영업 단계 설정", .recordTarget: "목표",
        .recordPlan: "보상 계획",
        .leadsSearchPlaceholder: "이름, 회사, 이메일, 전화번호 검색", .leadsEmpty: "아직 리드가 없습니다. +를 눌러 등록하세요.",
        .leadsNoMatch: "“{0}”에 맞는 리드가 없습니다.", .leadsNoneFiltered: "이 필터에 맞는 리드가 없습니다.",
        .leadsLoadingMore: "더 불러오는 중…", .leadsFilters: "필터",
        .sortUpdated: "최근 수정순", .sortCreated: "최근 등록순", .sortName: "이름순", .sortValue: "거래 금액순",
        .capturePaste: "붙여넣기", .captureScan: "스캔", .captureAddTag: "태그 추가", .captureCheckField: "확인 필요",
        .captureNothingRead: "이 텍스트에서 연락처 정보를 찾지 못했습니다.",
        .captureDuplicate: "이미 있는 리드입니다: {0} — {1} 님이 등록",
        .captureOpenExisting: "기존 리드 열기", .captureSaveAnyway: "새 리드로 저장", .captureSaved: "저장됨",
        .stageNeeds: "{0} 필요", .conflictTitle: "두 값이 입력되었습니다",
        .conflictExplain: "{0}에 두 값이 있습니다: {1}. 하나를 고르세요.",
        .logKind: "{0} 기록",
        .timelineTitle: "활동", .followUpSet: "후속 연락일 설정", .followUpClear: "후속 연락일 지우기",
        .moveToStage: "{0}(으)로 이동",
        .todayOverdue: "기한 지남", .todayToday: "오늘", .todayUpcoming: "앞으로 7일",
        .todayNothing: "오늘 할 일이 없습니다.",
        .syncNow: "지금 동기화", .syncNever: "이 휴대폰에서 아직 동기화하지 않았습니다", .syncLastSynced: "마지막 동기화 {0}",
        .syncAllSent: "모든 변경 사항이 서버에 있습니다", .syncWaitingOne: "보낼 변경 사항 1건",
        .syncWaitingMany: "보낼 변경 사항 {0}건", .syncStarting: "연결 중…",
        .syncSending: "변경 사항 {1}건 중 {0}건 보내는 중", .syncReceiving: "업데이트 받는 중 ({0})",
        .syncSummary: "{0}건 보냄, {1}건 받음.", .syncConflicts: "리드 {0}건에 두 값이 있습니다. 열어서 고르세요.",
        .syncRejectedOne: "서버가 변경 사항 1건을 거부했습니다. 아래에 보관되어 있으며 잃은 것은 없습니다.",
        .syncRejected: "서버가 변경 사항 {0}건을 거부했습니다. 아래에 보관되어 있으며 잃은 것은 없습니다.",
        .syncCancelled: "동기화를 취소했습니다. 보낸 것은 그대로이며 다음 동기화에서 이어집니다.",
        .syncQuarantineTitle: "서버가 거부한 변경",
        .signOut: "로그아웃",
        .signOutUnsyncedOne: "이 휴대폰의 변경 사항 1건이 아직 동기화되지 않았습니다. 로그아웃하면 영구히 삭제됩니다.",
        .signOutUnsyncedMany: "이 휴대폰의 변경 사항 {0}건이 아직 동기화되지 않았습니다. 로그아웃하면 영구히 삭제됩니다.",
        .signOutAnyway: "그래도 로그아웃", .signOutSyncFirst: "유지하고 먼저 동기화",
        .periodWeek: "주", .periodMonth: "월", .periodQuarter: "분기",
        .teamWinRate: "성사율", .teamWonValue: "성사 금액", .teamDealsWon: "성사 건수", .teamCaptured: "등록한 리드",
        .teamCycle: "영업 주기", .teamFunnel: "퍼널", .teamPipeline: "파이프라인", .teamPipelineRaw: "금액",
        .teamPipelineWeighted: "가중 금액", .teamResponse: "첫 응답", .teamWithin5Minutes: "5분 이내",
        .teamWithin1Hour: "1시간 이내", .teamWithin24Hours: "24시간 이내", .teamReps: "영업 담당자",
        .teamTargets: "목표", .teamCommission: "수수료", .teamTargetTeam: "{0} 팀", .teamOfTarget: "{1} 중 {0}",
        .teamPace: "진도 {0}", .changePoints: "{0}%p",
        .enrollServer: "서버 주소", .enrollCode: "일회용 코드", .enrollPaste: "코드 붙여넣기",
        .enrollDevice: "기기 이름", .enrollButton: "연결", .enrollDefaultDevice: "휴대폰",
        .enrollBadServer: "https://sync.example.com 과 같은 서버 주소를 입력하세요.",
        .enrollBadCode: "코드는 ABCD-EFGH-JKMN-PQRS 처럼 영문과 숫자 16자입니다.",
        .enrollNoNetwork: "네트워크에 연결되지 않았습니다. 연결과 서버 주소를 확인하고 다시 시도하세요.",
        .errorOffline: "오프라인이거나 서버에 연결할 수 없습니다. 변경 사항은 이 휴대폰에 안전하게 있습니다. 나중에 다시 시도하세요.",
        .errorRevoked: "관리자가 이 휴대폰의 연결을 해제했습니다. 새 코드를 받아 다시 연결하세요.",
        .errorNotEnrolled: "이 휴대폰은 아직 서버에 연결되지 않았습니다.",
        .errorCodeExpired: "만료되었거나 이미 사용한 코드입니다. 관리자에게 새 코드를 요청하세요.",
        .errorServerRefused: "서버가 거부했습니다: {0}", .errorServerUnreadable: "서버가 이 앱이 읽을 수 없는 응답을 보냈습니다. 나중에 다시 시도하거나 앱을 업데이트하세요.",
        .errorStorage: "휴대폰 저장소 오류: {0}", .errorForbidden: "현재 역할로는 할 수 없는 작업입니다.",
        .errorUnexpected: "문제가 발생했습니다: {0}",
        .a11yError: "오류: {0}", .a11ySearchLeads: "리드 검색", .a11ySortLeads: "정렬: {0}",
        .a11yFilterOn: "{0} 필터, 켜짐", .a11yFilterOff: "{0} 필터, 꺼짐", .a11yClearFilters: "필터 지우기",
        .a11yCaptureLead: "리드 등록", .a11yPotentialOn: "가능성 {0}, 선택됨",
        .a11yPotentialOff: "가능성 {0}", .a11yAddTag: "태그 추가", .a11yRemoveTag: "{0} 태그 삭제",
        .a11yPasteContact: "연락처 붙여넣기", .a11yScanCode: "명찰이나 명함 스캔",
        .a11ySaveLead: "리드 저장", .a11yCurrentStage: "현재 단계", .a11yAdvanceTo: "다음 단계로 이동, {0}",
        .a11yAdvanceNone: "다음 단계 없음", .a11yKeepValue: "{1}: {0} 유지", .a11yCompleteTask: "완료로 표시: {0}",
        .a11yFollowUpSet: "후속 연락일 {0}", .a11yFollowUpNone: "후속 연락일 설정",
        .a11yClearFollowUp: "후속 연락일 지우기", .a11yOverdueSince: "{0}부터 기한 지남",
        .a11ySyncNow: "지금 동기화, {0}", .a11ySyncing: "동기화 중, {0}", .a11yCancelSync: "동기화 취소",
        .a11ySyncProgress: "동기화 진행률 {0}", .a11ySignOut: "로그아웃하고 이 휴대폰의 데이터 삭제",
        .a11yQuarantined: "{0}, 거부됨: {1}, {2}", .a11yPeriodOn: "{0}, 선택됨", .a11yPeriodOff: "{0}",
        .a11yFunnelChart: "퍼널 차트: {0}", .a11yAttainmentChart: "목표 달성 차트: {0}",
        .a11yFunnelStep: "{0}: 리드 {1}건, 전환율 {2}", .a11yPipelineStage: "{0}: 리드 {1}건, 금액 {2}, 가중 금액 {3}",
        .a11yRepRow: "{0}: 성사 {1}건, 성사율 {2}, 성사 금액 {3}", .a11yCommission: "{0}: 수수료 {1}, 기본급 {2}",
        .a11yChangeUp: "이전 기간보다 {0} 증가", .a11yChangeDown: "이전 기간보다 {0} 감소",
        .a11yChangeFlat: "이전 기간과 같음",
    ]
}

/// The workspace's stage names: a stage a manager renamed ("Quote sent") keeps its name in
/// every language; the others are translated.
public struct StageNames: Sendable {
    let custom: [Stage: String]
    let strings: Strings

    init(settings: SalesSettings?, strings: Strings) {
        self.init(stages: settings?.stages ?? [], strings: strings)
    }

    init(stages: [StageSetting], strings: Strings) {
        custom = Dictionary(stages.filter { $0.name != $0.stage.coreName }.map { ($0.stage, $0.name) }, uniquingKeysWith: { a, _ in a })
        self.strings = strings
    }

    public func name(_ st: Stage) -> String {
        custom[st] ?? strings.stage(st)
    }
}
