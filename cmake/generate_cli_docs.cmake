# Build step: the man page and the bash completion of `subset`, generated from the built binary so
# that they list exactly what it accepts.
#   -DSUBSET=<the subset binary> -DOUT_DIR=<directory> -DHELP2MAN=<help2man or empty>
execute_process(COMMAND ${SUBSET} --bash-completion OUTPUT_FILE ${OUT_DIR}/subset.bash RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "subset --bash-completion failed: ${rc}")
endif()

if(NOT HELP2MAN)  # the configure step said so
  return()
endif()

# help2man reads the top-level --help; each command's own --help goes in a COMMANDS section.
# roff: a backslash is written \e, and a line starting with . or ' needs \& first.
function(help_of out_var)
  execute_process(COMMAND ${SUBSET} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "subset ${ARGN} --help failed: ${rc}")
  endif()
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

function(commands_of out_var)  # the names under "Subcommands:" in `subset ARGN --help`
  execute_process(COMMAND ${SUBSET} ${ARGN} --help OUTPUT_VARIABLE text)
  string(REGEX MATCH "\nSubcommands:\n.*" listing "${text}")
  string(REGEX MATCHALL "\n  [a-z][a-z-]*" names "${listing}")
  set(result)
  foreach(name ${names})
    string(STRIP "${name}" name)
    list(APPEND result ${name})
  endforeach()
  set(${out_var} ${result} PARENT_SCOPE)
endfunction()

set(include "[COMMANDS]\nEach command's options; global options may also follow the command's name.\n")
commands_of(commands)
foreach(command ${commands})
  help_of(help ${command})
  string(APPEND include ".SS \"subset ${command}\"\n.nf\n${help}.fi\n")
  commands_of(subcommands ${command})
  foreach(sub ${subcommands})
    help_of(help ${command} ${sub})
    string(APPEND include ".SS \"subset ${command} ${sub}\"\n.nf\n${help}.fi\n")
  endforeach()
endforeach()
string(APPEND include "[FILES]\nFeature stores, selection and model files are HDF5 (docs/format.md in the source).\n"
                      "[SEE ALSO]\nThe documentation under share/doc and docs/ of the source: quickstart.md, cli.md, "
                      "methods/, energy.md, python.md.\n")
file(WRITE ${OUT_DIR}/subset.h2m "${include}")
execute_process(COMMAND ${HELP2MAN} --no-info --section 1 --name "train on less data, and know what it cost and saved"
                        --include ${OUT_DIR}/subset.h2m --output ${OUT_DIR}/subset.1 ${SUBSET}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "help2man failed: ${rc} ${err}")
endif()
