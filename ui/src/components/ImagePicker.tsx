import Autocomplete from "@mui/material/Autocomplete";
import TextField from "@mui/material/TextField";

interface Props {
  images: string[];
  value: string;
  onChange: (value: string) => void;
  testid: string;
  label?: string;
  helperText?: string;
  disabled?: boolean;
  error?: boolean;
}

/** A local image from the list, or any image name typed in. */
export function ImagePicker({ images, value, onChange, testid, label, helperText, disabled, error }: Props) {
  return (
    <Autocomplete
      freeSolo
      options={images}
      inputValue={value}
      onInputChange={(_, v) => onChange(v)}
      disabled={disabled}
      fullWidth
      renderInput={(params) => (
        <TextField
          {...params}
          size="small"
          label={label ?? "Image"}
          helperText={helperText}
          error={error}
          inputProps={{
            ...params.inputProps,
            "data-testid": testid,
            spellCheck: false,
            autoCapitalize: "off",
            autoCorrect: "off",
          }}
        />
      )}
    />
  );
}
