#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall-clock time that `strftime_now(format)` formats: a naive local date and time, as
/// Python's `datetime.now()` gives it. Pass a fixed one to make renders reproducible.
public struct TemplateTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    /// Month 1-12, day 1-31, hour 0-23, minute and second 0-59.
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The current local time of this machine.
    public static func now() -> TemplateTime {
        var seconds = time(nil)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return TemplateTime(
            year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
            hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    /// C's `strftime` in the C locale, which is what Python's `datetime.strftime` calls.
    func format(_ pattern: String) throws -> String {
        guard !pattern.utf8.contains(0) else { throw ChatTemplateError(.value, "embedded null character") }
        var parts = tm()
        parts.tm_year = Int32(clamping: year - 1900)
        parts.tm_mon = Int32(clamping: month - 1)
        parts.tm_mday = Int32(clamping: day)
        parts.tm_hour = Int32(clamping: hour)
        parts.tm_min = Int32(clamping: minute)
        parts.tm_sec = Int32(clamping: second)
        // timegm fills in the weekday and day of the year for this calendar date.
        var normalized = parts
        _ = timegm(&normalized)
        parts.tm_wday = normalized.tm_wday
        parts.tm_yday = normalized.tm_yday
        parts.tm_isdst = -1
        if pattern.isEmpty { return "" }
        var capacity = 256
        while capacity <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = strftime(&buffer, capacity, pattern, &parts)
            if count > 0 {
                return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity *= 4
        }
        return ""
    }
}
