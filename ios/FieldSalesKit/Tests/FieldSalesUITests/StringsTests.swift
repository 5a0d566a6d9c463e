import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class StringsTests: XCTestCase {
    func testEveryStringHasAnEnglishAndAKoreanText() {
        for key in Strings.Key.allCases {
            XCTAssertNotNil(Strings.en[key], "no English for \(key)")
            XCTAssertNotNil(Strings.ko[key], "no Korean for \(key)")
        }
    }
}
