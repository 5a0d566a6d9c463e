// The core's spelling of its enums ("proposal", "badge_scan"), which conflicts and settings
// carry as text, read back into the Swift enums.

import FieldSalesKit

extension Stage {
    public var coreName: String {
        switch self {
        case .new: return "new"
        case .contacted: return "contacted"
        case .qualified: return "qualified"
        case .proposal: return "proposal"
        case .negotiation: return "negotiation"
        case .won: return "won"
        case .lost: return "lost"
        }
    }

    static func fromCore(_ name: String) -> Stage? {
        allInOrder.first { $0.coreName == name }
    }
}

extension Potential {
    public var coreName: String {
        switch self {
        case .hot: return "hot"
        case .warm: return "warm"
        case .cold: return "cold"
        }
    }

    static func fromCore(_ name: String) -> Potential? {
        [Potential.hot, .warm, .cold].first { $0.coreName == name }
    }
}
