#ifndef VOLUMED_CCEPH_SHIM_H
#define VOLUMED_CCEPH_SHIM_H
#include <rados/librados.h>
#include <rbd/librbd.h>
#endif
