import Testing

@testable import EngineCore

/// Reference digests from the `xxhash` Python package: scripts/engine_core_xxh64_vectors.py.
struct BlockHashTests {
    private static func pattern(_ count: Int) -> [UInt8] {
        (0 ..< count).map { UInt8(($0 * 7) % 251) }
    }

    @Test(arguments: [
        (0, 0xEF46_DB37_51D8_E999), (1, 0xE934_A84A_DB05_2768), (3, 0x9FF7_0A63_5A62_09AB),
        (4, 0xAE5A_CDC0_0A55_AC41), (8, 0x8711_6B33_65B9_24EB), (15, 0x02C5_3AB1_E360_882F),
        (31, 0x0F18_7C62_B1E7_22B7), (32, 0x91B0_CB09_31A8_C629), (33, 0x931B_043C_F8D6_5B94),
        (63, 0x5751_86C1_2DCE_BCFD), (64, 0xAB64_977B_5AF9_D022), (100, 0xB7FE_1D84_B2F2_3A05),
        (257, 0x3647_A881_C8E6_A141),
    ] as [(Int, UInt64)])
    func xxHash64MatchesReference(length: Int, digest: UInt64) {
        #expect(XXHash64.hash(Self.pattern(length)) == digest)
    }

    @Test func xxHash64OfText() {
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
    }

    @Test func blockHashesMatchReferenceLayout() {
        let first = BlockHash(parent: nil, tokenIDs: Array(1 ... 16)[...])
        #expect(first.value == 0x543E_BDC7_9D06_2593)
        let second = BlockHash(parent: first, tokenIDs: Array(17 ... 32)[...])
        #expect(second.value == 0xAAC6_1FCA_2C63_C370)
        let salted = BlockHash(parent: nil, tokenIDs: Array(1 ... 16)[...], salt: "tenant-a")
        #expect(salted.value == 0xEDC6_C541_2B82_215A)
        let extremes = BlockHash(parent: nil, tokenIDs: [-1, 0, .max, .min])
        #expect(extremes.value == 0x3094_610C_DD28_EED1)
        #expect(first.description == "543ebdc79d062593")
    }

    @Test func saltOnlyAffectsFirstBlocks() {
        let parent = BlockHash(value: 42)
        let tokens: ArraySlice<Int32> = [5, 6, 7, 8]
        #expect(BlockHash(parent: parent, tokenIDs: tokens, salt: "x") == BlockHash(parent: parent, tokenIDs: tokens))
        #expect(BlockHash(parent: nil, tokenIDs: tokens, salt: "x") != BlockHash(parent: nil, tokenIDs: tokens))
    }

    @Test func requestHashesItsFullBlocksIncrementally() {
        let request = Request(
            requestID: "r", promptTokenIDs: Array(0 ..< 10), samplingParams: .greedy(maxTokens: 20))
        var calls = 0
        let counting: BlockHashFunction = { parent, tokens, salt in
            calls += 1
            return BlockHash(parent: parent, tokenIDs: tokens, salt: salt)
        }
        request.updateBlockHashes(blockSize: 4, using: counting)
        #expect(request.blockHashes.count == 2)
        #expect(calls == 2)
        request.appendOutputToken(10)
        request.appendOutputToken(11)
        request.updateBlockHashes(blockSize: 4, using: counting)
        #expect(request.blockHashes.count == 3)
        #expect(calls == 3)
        let expected = BlockHash(parent: request.blockHashes[1], tokenIDs: [8, 9, 10, 11])
        #expect(request.blockHashes[2] == expected)
    }
}
