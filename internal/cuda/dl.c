#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

#include "cw.h"

/* RTLD_NOW binds every symbol the library and its dependencies use when it
 * opens, so that a broken installation (a dependency of another version,
 * lacking a symbol) is an error at start-up rather than the process ending
 * at the first call that needs it. */
void *cw_dlopen(const char *path, char *err, size_t errlen) {
	void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (h == NULL && errlen > 0) {
		const char *e = dlerror();
		snprintf(err, errlen, "%s", e != NULL ? e : "unknown dlopen error");
	}
	return h;
}

const char *cw_dlpath(void *h) {
	struct link_map *lm = NULL;
	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL) {
		return "";
	}
	return lm->l_name;
}

int cw_resolve(void *h, cw_sym *syms, int n) {
	int missing = 0;
	for (int i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (*syms[i].slot == NULL) {
			missing++;
		}
	}
	return missing;
}
