/// How many draft tokens each request gets in a step: as many as raise the tokens the step
/// yields per second, from each request's measured acceptance and the measured cost of a
/// step's tokens.
///
/// The model: a draft position is accepted with probability α (the request's rate, measured
/// per position reached), so with k drafts a request gains E(k) = (1 − α^(k+1)) / (1 − α)
/// tokens, and the j-th draft adds α^j. A step of T tokens takes a + b·T seconds (fitted to
/// the engine's steps). A step yields R = N / D tokens per second, N the tokens gained, D its
/// time; one more draft adds α^j to N and b to D, which pays when α^j > b·N / D = b·R. So
/// each request drafts while α^j > θ = b·R; θ grows with the drafts given, and is computed
/// twice. Bandwidth-bound steps (small batches on a GPU: b ≪ a) draft long; compute-bound
/// ones (large batches, where a step's time grows with its tokens) draft little or nothing —
/// the off-switch the batch needs.
///
/// A request that stops drafting drifts back towards the prior, so that it tries again now
/// and then; `adaptive: false` always drafts the full k.
public final class SpeculationPolicy {
    public let maxDraftTokens: Int
    public let adaptive: Bool
    /// Acceptance assumed before a request's first verification.
    public static let priorAcceptance = 0.6
    /// Weight of the latest position verified in a request's acceptance.
    static let acceptanceRate = 0.1
    /// How far an idle request's acceptance moves back towards the prior per step.
    static let recoveryRate = 0.02

    private var acceptance: [String: Double] = [:]
    private var cost = StepCostModel()

    public init(maxDraftTokens: Int, adaptive: Bool = true) {
        self.maxDraftTokens = maxDraftTokens
        self.adaptive = adaptive
    }

    /// The fitted step time (a + b·T seconds).
    public var stepCost: (fixed: Double, perToken: Double) { cost.coefficients }

    /// A request's acceptance estimate, in [0, 1].
    public func acceptanceRate(of requestID: String) -> Double { acceptance[requestID] ?? Self.priorAcceptance }

    /// Draft lengths for the step's candidates (requests that decode and may draft), given the
    /// tokens the step feeds besides drafts (`baseTokens`: its decodes and prompt chunks).
    public func draftLengths(for candidates: [String], baseTokens: Int) -> [Int] {
        guard adaptive else { return candidates.map { _ in maxDraftTokens } }
        let rates = candidates.map { acceptanceRate(of: $0) }
        let (a, b) = cost.coefficients
        var lengths = rates.map { _ in 0 }
        for _ in 0..<2 {
            let drafts = lengths.reduce(0, +)
            let gained = Double(baseTokens) + zip(rates, lengths).reduce(0) { $0 + Self.expectedExtra($1.0, $1.1) }
            let threshold = b * gained / (a + b * Double(baseTokens + drafts))
            lengths = rates.map { Self.length(rate: $0, threshold: threshold, cap: maxDraftTokens) }
        }
        return lengths
    }

    /// Records a verification: `drafted` drafts fed, the first `accepted` kept.
    public func recordVerification(_ requestID: String, drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        var rate = acceptanceRate(of: requestID)
        // Positions reached: the accepted ones and the first rejected one, if any.
        for position in 0 ..< min(accepted + 1, drafted) {
            rate += Self.acceptanceRate * ((position < accepted ? 1 : 0) - rate)
        }
        acceptance[requestID] = rate
    }

    /// A step in which the request had no drafts: its estimate recovers towards the prior.
    public func recordIdle(_ requestID: String) {
        guard let rate = acceptance[requestID] else { return }
        acceptance[requestID] = rate + Self.recoveryRate * (Self.priorAcceptance - rate)
    }

    /// Records a step's forward pass: `tokens` fed in `seconds`.
    public func recordStep(tokens: Int, seconds: Double) {
        cost.add(tokens: Double(tokens), seconds: seconds)
    }

    public func forget(_ requestID: String) {
        acceptance[requestID] = nil
    }

    /// α + α² + ... + α^k: the tokens k drafts add on average.
    static func expectedExtra(_ rate: Double, _ k: Int) -> Double {
        var total = 0.0
        var power = 1.0
        for _ in 0..<k {
            power *= rate
            total += power
        }
        return total
    }

    /// The largest k ≤ cap with α^k > threshold.
    static func length(rate: Double, threshold: Double, cap: Int) -> Int {
        var k = 0
        var power = 1.0
        while k < cap {
            power *= rate
            guard power > threshold else { break }
            k += 1
        }
        return k
    }
}

/// Step time as a + b·T, fitted by least squares over recent steps (exponentially
/// forgetting), with a prior that keeps it defined before steps of different sizes are seen.
struct StepCostModel {
    /// Weight kept by the past at each new step.
    static let forgetting = 0.98
    /// b / a assumed while the steps seen do not tell (bandwidth-bound: extra tokens cheap).
    static let priorSlopeRatio = 0.05

    private var weight = 0.0, sumT = 0.0, sumTT = 0.0, sumY = 0.0, sumTY = 0.0

    mutating func add(tokens: Double, seconds: Double) {
        guard seconds.isFinite, seconds >= 0, tokens > 0 else { return }
        let f = Self.forgetting
        weight = weight * f + 1
        sumT = sumT * f + tokens
        sumTT = sumTT * f + tokens * tokens
        sumY = sumY * f + seconds
        sumTY = sumTY * f + tokens * seconds
    }

    /// (a, b) in seconds and seconds per token; (1, priorSlopeRatio) before any step.
    var coefficients: (Double, Double) {
        guard weight > 0 else { return (1, Self.priorSlopeRatio) }
        let meanT = sumT / weight
        let meanY = sumY / weight
        let varianceT = sumTT / weight - meanT * meanT
        var b = varianceT > 0.25 ? (sumTY / weight - meanT * meanY) / varianceT : -1
        if b < 0 {
            // One step size seen (or noise): split the mean time by the prior ratio.
            b = Self.priorSlopeRatio * meanY / (1 + Self.priorSlopeRatio * meanT)
        }
        let a = max(meanY - b * meanT, 1e-3 * meanY)
        return (a, b)
    }
}
