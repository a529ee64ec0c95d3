#include "tern_nccl.h"

typedef int (*comm_init_rank_fn)(void **comm, int nranks, tern_nccl_unique_id id, int rank);

int tern_nccl_comm_init_rank(void *function, void **comm, int nranks, const tern_nccl_unique_id *id, int rank) {
    return ((comm_init_rank_fn)function)(comm, nranks, *id, rank);
}
