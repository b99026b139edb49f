// CSystemd holds only declarations (see include/CSystemd.h); SwiftPM needs one C source file
// for a C target, and this is it.
#include "CSystemd.h"
