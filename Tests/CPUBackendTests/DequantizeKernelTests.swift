import CTernKernels
import Tensors
import Testing

/// tern_dequantize_rows and tern_get_rows against gguf-py's dequantize of the same bytes.
@Suite struct DequantizeKernelTests {
    @Test func everyFixtureTypeIsSupportedWithDTypeRowSize() throws {
        for fixture in try QuantFixture.all() {
            let dtype = try #require(DType(rawValue: UInt32(fixture.type)), "\(fixture)")
            #expect(tern_type_supported(fixture.type) == 1, "\(fixture)")
            #expect(tern_row_bytes(fixture.type, Int64(fixture.cols)) == Int64(dtype.byteCount(elements: fixture.cols)))
            #expect(fixture.blocks.count == fixture.rows * dtype.byteCount(elements: fixture.cols))
        }
    }

    @Test func unsupportedTypesAndMisalignedColumnsAreRefused() {
        #expect(tern_type_supported(4) == 0)   // Q4_2, removed from GGML
        #expect(tern_type_supported(16) == 0)  // IQ2_XXS
        #expect(tern_row_bytes(2, 48) == 0)    // Q4_0 needs multiples of 32
        #expect(tern_row_bytes(12, 288) == 0)  // Q4_K needs multiples of 256
        #expect(tern_row_bytes(0, 7) == 28)
    }

    @Test func dequantizedRowsEqualGGUFReferenceBitForBit() throws {
        for fixture in try QuantFixture.all() {
            var out = [Float](repeating: .nan, count: fixture.rows * fixture.cols)
            tern_dequantize_rows(fixture.blocks, fixture.type, Int64(fixture.cols), 0, Int64(fixture.rows), &out)
            let mismatches = zip(out, fixture.values).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(mismatches == 0, "\(fixture): \(mismatches) values differ")

            // A sub-range of rows starts at the right row.
            var tail = [Float](repeating: .nan, count: 3 * fixture.cols)
            tern_dequantize_rows(fixture.blocks, fixture.type, Int64(fixture.cols), 4, 3, &tail)
            #expect(tail == Array(fixture.values[4 * fixture.cols..<7 * fixture.cols]), "\(fixture)")
        }
    }

    @Test func getRowsLooksUpEachID() throws {
        let ids: [Int32] = [12, 0, 5, 5, 7]
        for fixture in try QuantFixture.all() {
            var out = [Float](repeating: .nan, count: ids.count * fixture.cols)
            tern_get_rows(fixture.blocks, fixture.type, Int64(fixture.cols), ids, Int64(ids.count), &out)
            for (i, id) in ids.enumerated() {
                let want = fixture.values[Int(id) * fixture.cols..<(Int(id) + 1) * fixture.cols]
                #expect(Array(out[i * fixture.cols..<(i + 1) * fixture.cols]) == Array(want), "\(fixture) id \(id)")
            }
        }
    }
}
