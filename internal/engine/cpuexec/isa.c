//go:build cgo

// Which of the instruction sets the kernels are compiled for the CPU has.

#include "kernels.h"

int cw_isa_supported(int isa) {
	switch (isa) {
	case CW_ISA_BASE:
		return 1;
#if defined(__x86_64__)
	case CW_ISA_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	case CW_ISA_AVX512:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f");
#endif
	}
	return 0;
}

const char *cw_isa_name(int isa) {
	static const char *const names[] = {[CW_ISA_BASE] = "base", [CW_ISA_AVX2] = "avx2", [CW_ISA_AVX512] = "avx512"};
	return cw_isa_supported(isa) ? names[isa] : "";
}

int cw_isa_best(void) {
	for (int isa = CW_ISAS - 1; isa > CW_ISA_BASE; isa--)
		if (cw_isa_supported(isa))
			return isa;
	return CW_ISA_BASE;
}
