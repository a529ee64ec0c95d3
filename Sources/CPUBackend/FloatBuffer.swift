/// A fixed-size, 64-byte-aligned buffer of Float, owned by one object and reused step after
/// step, so the hot path allocates nothing.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var count: Int

    public init(count: Int) {
        self.count = count
        pointer = Self.allocate(count)
    }

    /// Makes room for at least `count` values; the contents are undefined afterwards.
    public func reserve(_ count: Int) {
        guard count > self.count else { return }
        pointer.deallocate()
        pointer = Self.allocate(count)
        self.count = count
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
