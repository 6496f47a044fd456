# Emscripten's stack API (what its runtime exports, see its system/lib/compiler-rt/stack_ops.S), for
# the C guest's "emscripten" build: the stack pointer read and written through functions, as an
# Emscripten-built guest exposes it, while __stack_pointer itself stays unexported.

.globaltype __stack_pointer, i32

.globl emscripten_stack_get_current
.export_name emscripten_stack_get_current, emscripten_stack_get_current
emscripten_stack_get_current:
  .functype emscripten_stack_get_current () -> (i32)
  global.get __stack_pointer
  end_function

.globl _emscripten_stack_restore
.export_name _emscripten_stack_restore, _emscripten_stack_restore
_emscripten_stack_restore:
  .functype _emscripten_stack_restore (i32) -> ()
  local.get 0
  global.set __stack_pointer
  end_function
