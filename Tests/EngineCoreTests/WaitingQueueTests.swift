import Testing

@testable import EngineCore

struct WaitingQueueTests {
    private func makeRequests(_ count: Int, seed: UInt64) -> [Request] {
        var rng = SplitMix64(seed: seed)
        let start = ContinuousClock.now
        return (0 ..< count).map { index in
            let request = Request(
                requestID: "r\(index)", promptTokenIDs: [1], samplingParams: .greedy(),
                priority: Int.random(in: 0 ... 3, using: &rng),
                arrivalTime: start + .milliseconds(Int.random(in: 0 ... 20, using: &rng)))
            request.sequenceNumber = UInt64(index + 1)
            return request
        }
    }

    @Test func popsByPriorityThenArrivalThenAddOrder() {
        let requests = makeRequests(200, seed: 7)
        var queue = WaitingQueue()
        for request in requests { queue.push(request) }
        var popped: [Request] = []
        while let request = queue.popFirst() { popped.append(request) }
        let expected = requests.sorted { $0.precedes($1) }
        #expect(popped.map(\.requestID) == expected.map(\.requestID))
        #expect(queue.count == 0)
    }

    @Test func removedRequestsNeverComeOut() {
        let requests = makeRequests(120, seed: 3)
        var queue = WaitingQueue()
        for request in requests { queue.push(request) }
        // Enough removals to trigger a rebuild, plus some that surface at the top.
        for request in requests.enumerated().filter({ $0.offset % 3 != 0 }).map(\.element) {
            request.status = .finished(.abort)
            queue.noteRemoved()
        }
        #expect(queue.count == 40)
        #expect(queue.first()?.isFinished == false)
        var popped: [String] = []
        while let request = queue.popFirst() { popped.append(request.requestID) }
        let expected = requests.filter { !$0.isFinished }.sorted { $0.precedes($1) }.map(\.requestID)
        #expect(popped == expected)
        #expect(queue.count == 0)
    }
}
