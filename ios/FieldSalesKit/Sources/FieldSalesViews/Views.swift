// The SwiftUI views of the seven screens: thin, no decisions (those are in FieldSalesUI's view
// models). SwiftUI and Swift Charts exist only on Apple platforms: on Linux this module is empty.
#if canImport(SwiftUI)
import SwiftUI
#endif
