/// How many draft tokens each request gets in a step: as many as raise the tokens the step
/// yields per second, from each request's measured acceptance and the measured cost of a
/// step's tokens.
///
/// The model: a draft position is accepted with probability α (the request's rate, measured
/// per position reached), so the j-th draft of a request adds α^j tokens on average. A step of
/// T tokens takes cost(T) seconds, measured for each T the engine has run (and a straight line
/// a + b·T fitted to all steps where a T was never run). A step with D drafts yields
/// R(D) = (B + the D largest gains) / cost(B + D) tokens per second, B its tokens without
/// drafts; the policy takes the D with the largest R and gives each request as many drafts as
/// it has among those D gains. Measured costs matter: on a CPU a step of 4 tokens (one register
/// tile) can cost much less than one of 5, and bandwidth-bound GPU steps hardly grow with T,
/// while a compute-bound batch (many requests) gains nothing from drafts — the off-switch.
///
/// A new request starts from the acceptance of all requests lately, and one that stops
/// drafting drifts back towards it, so that it tries again now and then; `adaptive: false`
/// always drafts the full k.
public final class SpeculationPolicy {
    public let maxDraftTokens: Int
    public let adaptive: Bool
    /// Acceptance assumed before the engine's first verification.
    public static let priorAcceptance = 0.6
    /// Weight of the latest position verified in the engine-wide acceptance.
    static let globalRate = 0.02
    /// Weight of the latest position verified in a request's acceptance.
    static let acceptanceRate = 0.1
    /// How far an idle request's acceptance moves back towards the prior per step.
    static let recoveryRate = 0.02

    private var acceptance: [String: Double] = [:]
    /// Acceptance over all requests lately: where a new request starts and an idle one returns,
    /// so that a workload whose drafts fail stops drafting for new requests too.
    public private(set) var globalAcceptance = SpeculationPolicy.priorAcceptance
    private var cost = StepCostModel()

    public init(maxDraftTokens: Int, adaptive: Bool = true) {
        self.maxDraftTokens = maxDraftTokens
        self.adaptive = adaptive
    }

    /// The fitted step time (a + b·T seconds).
    public var stepCost: (fixed: Double, perToken: Double) { cost.coefficients }

    /// A request's acceptance estimate, in [0, 1].
    public func acceptanceRate(of requestID: String) -> Double { acceptance[requestID] ?? globalAcceptance }

    /// Draft lengths for the step's candidates (requests that decode and may draft), given the
    /// tokens the step feeds besides drafts (`baseTokens`: its decodes and prompt chunks).
    public func draftLengths(for candidates: [String], baseTokens: Int) -> [Int] {
        guard adaptive else { return candidates.map { _ in maxDraftTokens } }
        // Every possible draft's gain, best first (a request's own in order of position).
        var gains: [(gain: Double, request: Int, position: Int)] = []
        for (index, id) in candidates.enumerated() {
            let rate = acceptanceRate(of: id)
            var power = 1.0
            for position in 1 ... max(1, maxDraftTokens) where maxDraftTokens > 0 {
                power *= rate
                guard power > 1e-4 else { break }
                gains.append((power, index, position))
            }
        }
        gains.sort { $0.gain != $1.gain ? $0.gain > $1.gain : $0.position < $1.position }
        let base = max(1, baseTokens)
        var tokens = Double(base)
        var best = (drafts: 0, rate: tokens / cost.seconds(tokens: base))
        for (index, item) in gains.enumerated() {
            tokens += item.gain
            let rate = tokens / cost.seconds(tokens: base + index + 1)
            if rate > best.rate { best = (index + 1, rate) }
        }
        var lengths = candidates.map { _ in 0 }
        for item in gains.prefix(best.drafts) { lengths[item.request] += 1 }
        return lengths
    }

    /// Records a verification: `drafted` drafts fed, the first `accepted` kept.
    public func recordVerification(_ requestID: String, drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        var rate = acceptanceRate(of: requestID)
        // Positions reached: the accepted ones and the first rejected one, if any.
        for position in 0 ..< min(accepted + 1, drafted) {
            let outcome: Double = position < accepted ? 1 : 0
            rate += Self.acceptanceRate * (outcome - rate)
            globalAcceptance += Self.globalRate * (outcome - globalAcceptance)
        }
        acceptance[requestID] = rate
    }

    /// A step in which the request had no drafts: its estimate recovers towards the engine's.
    public func recordIdle(_ requestID: String) {
        guard let rate = acceptance[requestID] else { return }
        acceptance[requestID] = rate + Self.recoveryRate * (globalAcceptance - rate)
    }

    /// Records a step's forward pass: `tokens` fed in `seconds`.
    public func recordStep(tokens: Int, seconds: Double) {
        cost.add(tokens: tokens, seconds: seconds)
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
}

/// Step time by the tokens fed: the mean of recent steps of each size T seen (exponentially
/// forgetting), and a straight line a + b·T fitted by least squares over all recent steps for
/// sizes never seen, with a prior that keeps it defined before steps of different sizes are.
struct StepCostModel {
    /// Weight kept by the past at each new step (the line) and each new step of a size (the means).
    static let forgetting = 0.98
    static let sizeForgetting = 0.8
    /// b / a assumed while the steps seen do not tell (bandwidth-bound: extra tokens cheap).
    static let priorSlopeRatio = 0.05
    /// Sizes whose own mean is kept.
    static let trackedSizes = 1024

    private var weight = 0.0, sumT = 0.0, sumTT = 0.0, sumY = 0.0, sumTY = 0.0
    private var meanBySize: [Int: Double] = [:]

    mutating func add(tokens: Int, seconds: Double) {
        guard seconds.isFinite, seconds >= 0, tokens > 0 else { return }
        let t = Double(tokens)
        let f = Self.forgetting
        weight = weight * f + 1
        sumT = sumT * f + t
        sumTT = sumTT * f + t * t
        sumY = sumY * f + seconds
        sumTY = sumTY * f + t * seconds
        if tokens <= Self.trackedSizes {
            meanBySize[tokens] = meanBySize[tokens].map { $0 + (1 - Self.sizeForgetting) * (seconds - $0) } ?? seconds
        }
    }

    /// The expected time of a step of `tokens` tokens.
    func seconds(tokens: Int) -> Double {
        if let mean = meanBySize[tokens] { return max(mean, 1e-9) }
        let (a, b) = coefficients
        return max(a + b * Double(tokens), 1e-9)
    }

    /// (a, b) of the line in seconds and seconds per token; (1, priorSlopeRatio) before any step.
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
