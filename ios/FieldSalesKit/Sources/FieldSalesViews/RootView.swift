// The app's root: Enroll until the device is enrolled, then the tabs. It makes the view models
// from the session and holds them while their screens show.
#if canImport(SwiftUI)
import FieldSalesUI
import SwiftUI

public struct FieldSalesRootView: View {
    var session: AppSession
    let deviceName: String

    public init(session: AppSession, deviceName: String) {
        self.session = session
        self.deviceName = deviceName
    }

    public var body: some View {
        Group {
            if let core = session.core {
                MainTabs(session: session, core: core)
            } else {
                NavigationStack { EnrollScreen(model: session.enrollModel(deviceName: deviceName)) }
            }
        }
        .task { await session.start() }
    }
}

struct MainTabs: View {
    let session: AppSession
    @State private var leads: LeadsViewModel
    @State private var today: TodayViewModel
    @State private var sync: SyncViewModel
    @State private var team: TeamViewModel
    @State private var leadsPath: [Route] = []
    @State private var todayPath: [Route] = []
    private let core: CoreCalls

    init(session: AppSession, core: CoreCalls) {
        self.session = session
        self.core = core
        _leads = State(initialValue: session.leadsModel(core))
        _today = State(initialValue: session.todayModel(core))
        _sync = State(initialValue: session.syncModel(core))
        _team = State(initialValue: session.teamModel(core))
    }

    private var s: Strings { session.context.strings }

    var body: some View {
        TabView {
            NavigationStack(path: $leadsPath) {
                LeadsScreen(model: leads, open: { leadsPath.append(.lead($0)) }, capture: { leadsPath.append(.capture) })
                    .navigationDestination(for: Route.self) { route in
                        Destination(session: session, core: core, route: route) { leadsPath.append(.lead($0)) }
                    }
            }
            .tabItem { Label(s(.leadsTitle), systemImage: "person.crop.rectangle.stack") }
            NavigationStack(path: $todayPath) {
                TodayScreen(model: today, open: { todayPath.append(.lead($0)) })
                    .navigationDestination(for: Route.self) { route in
                        Destination(session: session, core: core, route: route) { todayPath.append(.lead($0)) }
                    }
            }
            .tabItem { Label(s(.todayTitle), systemImage: "calendar") }
            if session.showsTeam {
                NavigationStack { TeamScreen(model: team) }
                    .tabItem { Label(s(.teamTitle), systemImage: "chart.bar") }
            }
            NavigationStack { SyncScreen(model: sync) }
                .tabItem { Label(s(.syncTitle), systemImage: "arrow.triangle.2.circlepath") }
        }
    }
}

enum Route: Hashable {
    case lead(String), capture
}

/// A pushed screen; it makes its view model once and keeps it while it shows.
struct Destination: View {
    @State private var detail: LeadDetailViewModel?
    @State private var capture: CaptureViewModel?
    let session: AppSession
    let core: CoreCalls
    let route: Route
    let openLead: (String) -> Void

    var body: some View {
        Group {
            if let detail {
                LeadDetailScreen(model: detail)
            } else if let capture {
                CaptureScreen(model: capture, openLead: openLead)
            } else {
                Color.clear // appears once, then holds the screen's model
            }
        }
        .onAppear {
            guard detail == nil, capture == nil else { return }
            switch route {
            case .lead(let id): detail = session.detailModel(core, leadId: id)
            case .capture: capture = session.captureModel(core)
            }
        }
    }
}
#endif
