#ifndef TERN_NCCL_H
#define TERN_NCCL_H

// NCCL is opened at run time (dlopen), so Tern needs none of its headers; this is the one call
// Swift cannot make through a function pointer of its own: ncclCommInitRank takes the 128-byte
// ncclUniqueId by value.

/// ncclUniqueId: NCCL_UNIQUE_ID_BYTES (128) opaque bytes.
typedef struct { char internal[128]; } tern_nccl_unique_id;

/// Calls `function`, NCCL's ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId id,
/// int rank), and returns its ncclResult_t.
int tern_nccl_comm_init_rank(void *function, void **comm, int nranks, const tern_nccl_unique_id *id, int rank);

#endif
