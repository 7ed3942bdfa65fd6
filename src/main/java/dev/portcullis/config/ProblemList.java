package dev.portcullis.config;

import java.util.List;

/** One message for the problems found in a file the config names (a users file, a domain list). */
public final class ProblemList {
    private ProblemList() {
    }

    /**
     * The problems joined with "; ", and "and N more" when only the first of {@code total} are listed.
     *
     * @param problems listed problems; each one's {@code toString} names its file and line
     */
    public static String describe(List<?> problems, int total) {
        StringBuilder sb = new StringBuilder();
        for (Object p : problems) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(p);
        }
        if (total > problems.size()) {
            sb.append("; and ").append(total - problems.size()).append(" more");
        }
        return sb.toString();
    }
}
