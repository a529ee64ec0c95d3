/// Counters of speculative decoding since the engine started (vLLM's `spec_decode_*`
/// metrics, plus the time spent proposing and verifying).
public struct SpeculativeStats: Sendable, Equatable {
    /// Verifications: one per request per step that fed drafts.
    public var numDrafts = 0
    /// Draft tokens fed.
    public var numDraftTokens = 0
    /// Draft tokens the target's sampling kept.
    public var numAcceptedTokens = 0
    /// Drafts kept at each position (index 0 = first draft), up to k.
    public var acceptedPerPosition: [Int] = []
    /// Seconds spent proposing drafts.
    public var draftSeconds = 0.0
    /// Seconds of the forward passes of steps that verified drafts.
    public var verifySeconds = 0.0

    public init() {}

    /// Kept drafts over fed drafts, in [0, 1].
    public var acceptanceRate: Double { numDraftTokens == 0 ? 0 : Double(numAcceptedTokens) / Double(numDraftTokens) }
    /// Tokens a verification yields on average: the kept drafts plus the token that follows.
    public var meanAcceptedLength: Double { numDrafts == 0 ? 0 : 1 + Double(numAcceptedTokens) / Double(numDrafts) }

    /// Counts one verification of `drafted` drafts of which the first `accepted` were kept.
    public mutating func record(drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        numDrafts += 1
        numDraftTokens += drafted
        numAcceptedTokens += accepted
        if acceptedPerPosition.count < drafted {
            acceptedPerPosition += Array(repeating: 0, count: drafted - acceptedPerPosition.count)
        }
        for position in 0 ..< accepted { acceptedPerPosition[position] += 1 }
    }
}
